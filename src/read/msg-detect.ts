/** An Outlook item file: by name, or by the OLE compound-file signature. Cheap, and without msgreader. */
export function isMsgFile(name: string, data: Uint8Array): boolean {
  return name.toLowerCase().endsWith('.msg') || (data.length > 8 && data[0] === 0xd0 && data[1] === 0xcf && data[2] === 0x11 && data[3] === 0xe0);
}
