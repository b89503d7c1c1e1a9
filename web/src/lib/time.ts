// Dates and times as people read them, in the browser's locale.

const SHORT_TIME = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const DAY = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' });
const FULL = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function timeOfDay(ms: number): string {
  return SHORT_TIME.format(ms);
}

export function fullDate(ms: number): string {
  return FULL.format(ms);
}

/** "Today", "Yesterday" or the weekday and date, for the separators between days in a chat. */
export function dayLabel(ms: number, now = Date.now()): string {
  const day = startOfDay(ms);
  const today = startOfDay(now);
  if (day === today) return 'Today';
  if (day === today - 86_400_000) return 'Yesterday';
  return DAY.format(ms);
}

export function startOfDay(ms: number): number {
  const date = new Date(ms);
  date.setHours(0, 0, 0, 0);
  return date.getTime();
}

export function relativeTime(iso: string, now = Date.now()): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return '';
  const seconds = Math.round((now - ms) / 1000);
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (startOfDay(ms) === startOfDay(now)) return timeOfDay(ms);
  if (seconds < 7 * 86_400)
    return new Intl.DateTimeFormat(undefined, { weekday: 'short' }).format(ms);
  return new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' }).format(ms);
}

/** "6 days left", "5 hours left", "under a minute left": what remains of a room's lifetime. */
export function timeLeft(iso: string, now = Date.now()): string {
  const ms = Date.parse(iso) - now;
  if (Number.isNaN(ms)) return '';
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'} left`;
  if (ms >= 86_400_000) return plural(Math.floor(ms / 86_400_000), 'day');
  if (ms >= 3_600_000) return plural(Math.floor(ms / 3_600_000), 'hour');
  if (ms >= 60_000) return plural(Math.floor(ms / 60_000), 'minute');
  return 'under a minute left';
}
