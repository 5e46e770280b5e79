/** Payload encryption: the AES-GCM codec, its keys, the data converter and the Web UI's codec endpoint. */
export { AesGcmCodec } from './aes-gcm-codec';
export { startCodecServer, uiOrigins } from './codec-server';
export { createDataConverter } from './data-converter';
export { codecKeysFromEnv, type CodecKeys } from './keys-config';
