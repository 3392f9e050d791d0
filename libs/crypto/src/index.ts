export { TokenCipher, UnknownKeyError, type EncryptionKey, type SealedSecret } from './token-cipher';
