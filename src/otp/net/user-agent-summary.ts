/** "Firefox on Linux": enough for a person to recognise a stranger's request, no fingerprint. */
export function summariseUserAgent(ua: string | undefined): string | undefined {
  if (!ua) return undefined;
  const browser =
    /Edg(?:e|A|iOS)?\//.test(ua) ? 'Edge'
      : /OPR\/|Opera/.test(ua) ? 'Opera'
        : /Firefox\/|FxiOS\//.test(ua) ? 'Firefox'
          : /Chrome\/|CriOS\//.test(ua) ? 'Chrome'
            : /Safari\//.test(ua) ? 'Safari'
              : /curl\//i.test(ua) ? 'curl'
                : undefined;
  const os = /Android/.test(ua) ? 'Android'
    : /iPhone|iPad|iOS/.test(ua) ? 'iOS'
      : /Windows/.test(ua) ? 'Windows'
        : /Mac OS X|Macintosh/.test(ua) ? 'macOS'
          : /Linux|X11/.test(ua) ? 'Linux'
            : undefined;
  if (browser && os) return `${browser} on ${os}`;
  if (browser || os) return browser ?? os;
  // Unknown agents print as "unknown": their text is the client's to choose, and a mail that
  // says "never act on links" must not carry a phone number or a domain a client wrote.
  return undefined;
}
