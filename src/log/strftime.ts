/** Formats a date with the strftime conversions log_timestamp_format uses most (local time). */
export function strftime(format: string, d: Date): string {
  const p2 = (n: number) => String(n).padStart(2, '0');
  return format.replace(/%([a-zA-Z%])/g, (m, c: string) => {
    switch (c) {
      case 'Y':
        return String(d.getFullYear());
      case 'y':
        return p2(d.getFullYear() % 100);
      case 'm':
        return p2(d.getMonth() + 1);
      case 'd':
        return p2(d.getDate());
      case 'e':
        return String(d.getDate()).padStart(2, ' ');
      case 'H':
        return p2(d.getHours());
      case 'M':
        return p2(d.getMinutes());
      case 'S':
        return p2(d.getSeconds());
      case 's':
        return String(Math.floor(d.getTime() / 1000));
      case 'j':
        return String(
          Math.floor((d.getTime() - new Date(d.getFullYear(), 0, 0).getTime()) / 86_400_000),
        ).padStart(3, '0');
      case 'F':
        return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}`;
      case 'T':
        return `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
      case 'z': {
        const off = -d.getTimezoneOffset();
        const sign = off >= 0 ? '+' : '-';
        return `${sign}${p2(Math.floor(Math.abs(off) / 60))}${p2(Math.abs(off) % 60)}`;
      }
      case '%':
        return '%';
      default:
        return m;
    }
  });
}
