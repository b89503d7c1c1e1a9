// A wall of pasted text should not push the rest of the conversation off the screen: messages past
// either bound are shown collapsed, with "Show more" to read them whole.
export const LONG_MESSAGE_CHARACTERS = 1200;
export const LONG_MESSAGE_LINES = 16;

export function isLongMessage(text: string): boolean {
  if (text.length > LONG_MESSAGE_CHARACTERS) return true;
  let lines = 1;
  for (const character of text) {
    if (character === '\n' && ++lines > LONG_MESSAGE_LINES) return true;
  }
  return false;
}
