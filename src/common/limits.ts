/** JSON bodies (POST /v1/batch with direct items) are parsed up to this size; bigger batches go through an upload. */
export const JSON_BODY_LIMIT_BYTES = 16 * 1024 * 1024;
