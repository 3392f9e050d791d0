/** The process's kafkajs client (one per process; producers and consumers are made from it). */
export const KAFKA = Symbol('KAFKA');
/** The consumer's validated configuration. */
export const CONSUMER_CONFIG = Symbol('CONSUMER_CONFIG');
