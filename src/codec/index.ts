/** Payload encryption: the AES-GCM codec, its keys and the data converter (the Web UI's codec endpoint is api/codec-server.ts). */
export { AesGcmCodec } from './aes-gcm-codec';
export { createDataConverter } from './data-converter';
export { codecKeysFromEnv, type CodecKeys } from './keys-config';
