/**
 * The Kafka header that carries a message's correlation id: one id from where a change enters (the Graph webhook,
 * an API request, an IMAP IDLE poke) through the consumer's round to the domain event and the socket emit. Every
 * publisher sets it from the work it runs in; every consumer runs the message's handler under it.
 */
export const CORRELATION_ID_HEADER = 'x-correlation-id';
