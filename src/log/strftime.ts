/**
 * strftime(3) for Heron's own output: log_timestamp_format and the @-sequences of
 * `heron sub -F`. The common conversions, in local time.
 */

/** Formats a date with a strftime format string (local time). */
export function strftime(format: string, d: Date): string {
  return format.replace(/%([a-zA-Z%])/g, (_m, c: string) => strftimeConversion(c, d));
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** One strftime(3) conversion character (`Y`, `m`, `z`, ...) for `d` in local time; unknown ones stay `%c`. */
export function strftimeConversion(conv: string, d: Date): string {
  switch (conv) {
    case 'Y':
      return String(d.getFullYear());
    case 'y':
      return two(d.getFullYear() % 100);
    case 'm':
      return two(d.getMonth() + 1);
    case 'd':
      return two(d.getDate());
    case 'e':
      return String(d.getDate()).padStart(2, ' ');
    case 'H':
      return two(d.getHours());
    case 'I':
      return two(d.getHours() % 12 || 12);
    case 'M':
      return two(d.getMinutes());
    case 'S':
      return two(d.getSeconds());
    case 'p':
      return d.getHours() < 12 ? 'AM' : 'PM';
    case 'j': {
      // From the local calendar date, not elapsed local time: a DST change makes some local days 23 or 25 hours.
      const y = d.getFullYear();
      const day = (Date.UTC(y, d.getMonth(), d.getDate()) - Date.UTC(y, 0, 1)) / 86_400_000 + 1;
      return String(day).padStart(3, '0');
    }
    case 'a':
      return DAYS[d.getDay()].slice(0, 3);
    case 'A':
      return DAYS[d.getDay()];
    case 'b':
    case 'h':
      return MONTHS[d.getMonth()].slice(0, 3);
    case 'B':
      return MONTHS[d.getMonth()];
    case 'u':
      return String(d.getDay() || 7);
    case 'w':
      return String(d.getDay());
    case 's':
      return String(Math.floor(d.getTime() / 1000));
    case 'F':
      return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
    case 'T':
      return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
    case 'R':
      return `${two(d.getHours())}:${two(d.getMinutes())}`;
    case 'D':
      return `${two(d.getMonth() + 1)}/${two(d.getDate())}/${two(d.getFullYear() % 100)}`;
    case 'z': {
      const off = -d.getTimezoneOffset();
      const a = Math.abs(off);
      return `${off < 0 ? '-' : '+'}${two(Math.floor(a / 60))}${two(a % 60)}`;
    }
    case 'Z':
      return (
        Intl.DateTimeFormat('en', { timeZoneName: 'short' })
          .formatToParts(d)
          .find((x) => x.type === 'timeZoneName')?.value ?? ''
      );
    case 'n':
      return '\n';
    case 't':
      return '\t';
    case '%':
      return '%';
    default:
      return `%${conv}`;
  }
}
