export { ConfigError } from './config-error';
export { loadConfig } from './load-config';
export { parseHostPort, type HostPort } from './fields';
export { type InfraConfig } from './infra.config';
export { type MicrosoftConfig } from './microsoft.config';
export { loadProducerConfig, type ProducerConfig } from './producer.config';
export { loadConsumerConfig, type ConsumerConfig } from './consumer.config';
export { loadEmulatorConfig, type EmulatorConfig } from './emulator.config';
export { loadOrExit } from './load-or-exit';
