/** Payload encryption: the AES-GCM codec, its keys, the data converter and the Web UI's codec endpoint. */
export { AesGcmCodec, CodecFailureType, ENCRYPTED_ENCODING, KEY_ID_METADATA, PayloadDecryptionError, isEncrypted } from './aes-gcm-codec';
export { startCodecServer, uiOrigins, type CodecServer, type CodecServerOptions } from './codec-server';
export { createDataConverter, ENCODING_FAILURE_CONVERTER_PATH } from './data-converter';
export { Keyring, generateKey, parseKeyring, type CodecKey } from './keyring';
export { codecKeysFromEnv, CODEC_KEY_FILE_NAME, type CodecKeys, type CodecKeysOptions } from './keys-config';
