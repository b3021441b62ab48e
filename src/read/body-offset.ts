/**
 * Where a message's body begins in its bytes: after the first empty line (CRLF or LF line ends, or a
 * mix of them); -1 when there is none (headers only). Found on the bytes, without copying them.
 */
export function bodyOffset(bytes: Uint8Array): number {
  let i = bytes.indexOf(0x0a);
  while (i >= 0) {
    if (bytes[i + 1] === 0x0a) return i + 2;
    if (bytes[i + 1] === 0x0d && bytes[i + 2] === 0x0a) return i + 3;
    i = bytes.indexOf(0x0a, i + 1);
  }
  return -1;
}
