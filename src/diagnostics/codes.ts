/**
 * Stable diagnostic codes, like tsc's: scripts and docs may rely on them, so a code is never reused
 * for another meaning. 1xx: loading files, 2xx: schema validation, 3xx: resolving references,
 * 4xx: planning against the database, 5xx: importing a legacy database.
 */
export const codes = {
  yamlSyntax: 'CANON101',
  duplicateKey: 'CANON102',
  notUtf8: 'CANON103',
  fileTooLarge: 'CANON104',
  aliasExpansion: 'CANON105',
  forbiddenKey: 'CANON106',
  nestingTooDeep: 'CANON107',
  emptyFile: 'CANON108',
  emptyDocument: 'CANON109',
  notAMapping: 'CANON110',
  unreadable: 'CANON111',
  noRegistry: 'CANON112',
  nulCharacter: 'CANON113',
  outsideRegistry: 'CANON114',
  badDocument: 'CANON115',
  inexactNumber: 'CANON116',

  missingKind: 'CANON201',
  unknownKind: 'CANON202',
  unknownField: 'CANON203',
  missingField: 'CANON204',
  wrongType: 'CANON205',
  valueNotAllowed: 'CANON206',
  outOfRange: 'CANON207',
  badFormat: 'CANON208',
  schemaViolation: 'CANON209',

  duplicateId: 'CANON301',
  danglingReference: 'CANON302',
  wrongKindReference: 'CANON303',
  privateReference: 'CANON304',
  multiplePrimary: 'CANON305',
  cycle: 'CANON306',
  duplicateRelationEntry: 'CANON307',
  limitExceeded: 'CANON308',
  notAllowedForTenant: 'CANON309',
  overrideNotVisible: 'CANON310',

  unmanagedRowExists: 'CANON401',
  unmanagedIdTaken: 'CANON402',

  legacyMapping: 'CANON501',
} as const;

export type DiagnosticCode = (typeof codes)[keyof typeof codes];
