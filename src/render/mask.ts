/**
 * Secrets that may sit inside values a plan shows (an endpoint URL with credentials, a token in a
 * query string), whether they come from the registry or from the live row: masked before the text
 * leaves Canon for a place more people read than the repository's secrets, such as a pull-request
 * comment. The database URL never gets this far: plans show its redacted label only.
 */
const userInfoPassword = /\b([a-z][a-z0-9+.-]*:\/\/[^\s"'`/:@]*):[^\s"'`]*@/gi;
const secretNames = [
  'password',
  'passwd',
  'pwd',
  'sslpassword',
  'secret',
  'client_secret',
  'token',
  'access_token',
  'refresh_token',
  'api[_-]?key',
  'apikey',
  'key',
  'sig',
  'signature',
  'auth',
];
const secretParameter = new RegExp(`([?&;](?:${secretNames.join('|')})=)[^&#\\s"'\`]+`, 'gi');

export const maskSecrets = (text: string) =>
  text.replace(userInfoPassword, '$1:***@').replace(secretParameter, '$1***');
