export { Topics, topicName, projectTopics, type TopicKey, type TopicName, type TopicSpec } from './topics';
