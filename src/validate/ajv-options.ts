// The ajv settings, apart from ajv itself: the validator cache keys its entries by them without
// loading ajv.

/** allErrors: a run reports every problem, not just the first; verbose: messages quote the schema. */
export const ajvOptions = { allErrors: true, verbose: true, strict: true, allowUnionTypes: true } as const;
