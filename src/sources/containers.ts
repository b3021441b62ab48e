/**
 * Files that hold mail the tool cannot read directly: archives and mail-client databases. Each is
 * named, with how to get the mail out of it into a form the tool reads (spec §2.3). Recognised by
 * their first bytes, and by name where the bytes say nothing certain.
 */
export interface Container {
  what: string;
  howTo: string;
}

const OUTLOOK_HOWTO =
  'in Outlook, open the ballot folder, select the messages and drag them into a folder in Windows Explorer (each becomes a .msg file), then give that folder; or export them from Outlook on the web / Microsoft 365 as .eml files (see README, "Getting the mailbox out")';

export function recogniseContainer(head: Buffer, name: string): Container | null {
  const lower = name.toLowerCase();
  const magic = (bytes: number[]): boolean => bytes.every((b, i) => head[i] === b);
  if (magic([0x21, 0x42, 0x44, 0x4e])) {
    return { what: `an Outlook data file (${lower.endsWith('.ost') ? '.ost' : '.pst'})`, howTo: OUTLOOK_HOWTO };
  }
  if (lower.endsWith('.pst') || lower.endsWith('.ost')) return { what: 'an Outlook data file', howTo: OUTLOOK_HOWTO };
  if (magic([0x50, 0x4b, 0x03, 0x04]) || magic([0x50, 0x4b, 0x05, 0x06])) {
    return { what: 'a zip archive (such as a Google Takeout or eDiscovery download)', howTo: 'unzip it and give the folder, or the .mbox or .eml files inside it' };
  }
  if (magic([0x1f, 0x8b])) return { what: 'a gzip-compressed file', howTo: 'decompress it (gunzip) and give what it holds' };
  if (magic([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c])) return { what: 'a 7-Zip archive', howTo: 'extract it and give the folder' };
  if (magic([0x52, 0x61, 0x72, 0x21])) return { what: 'a RAR archive', howTo: 'extract it and give the folder' };
  if (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return { what: 'a tar archive', howTo: 'extract it (tar -xf) and give the folder' };
  if (lower.endsWith('.mbx')) {
    return {
      what: 'an Outlook Express or Eudora .mbx mailbox that is not in mbox form',
      howTo: 'open it in Thunderbird (Import) and export the folder as mbox (ImportExportTools NG), or save the messages as .eml files',
    };
  }
  if (lower.endsWith('.olm')) return { what: 'an Outlook for Mac archive (.olm)', howTo: 'in Outlook for Mac, drag the ballot messages to a Finder folder (.eml files), or export from Outlook on the web' };
  return null;
}
