package org.etcdjvm.embedded.internal.http;

import java.nio.charset.StandardCharsets;

/**
 * Strict percent-decoding of URL paths and form components into UTF-8 text. Stateless and
 * thread-safe.
 *
 * <p>The input is text in which every char is one byte of the wire (Netty hands the request line over
 * as ISO-8859-1, and form bodies are read the same way), so raw UTF-8 bytes and {@code %XX} escapes
 * both end up as bytes before the result is decoded. Unlike {@code URLDecoder} and Netty's
 * {@code QueryStringDecoder}, which quietly substitute U+FFFD, a bad escape or bytes that are not
 * well-formed UTF-8 (overlong forms, surrogates, code points past U+10FFFF) make the whole component
 * invalid: the caller answers error 209 rather than store a key or value nobody sent.
 */
final class UrlDecoding {
  private UrlDecoding() {}

  /**
   * Decodes {@code s[start, end)} as part of a URL path: {@code %XX} becomes a byte and {@code +}
   * stays {@code +}.
   *
   * @return the decoded text, or null if an escape is malformed or the bytes are not UTF-8
   */
  static String decodePath(String s, int start, int end) {
    return decode(s, start, end, false);
  }

  /**
   * Decodes {@code s[start, end)} as a name or value of an {@code application/x-www-form-urlencoded}
   * form: like {@link #decodePath} but {@code +} means a space.
   *
   * @return the decoded text, or null if an escape is malformed or the bytes are not UTF-8
   */
  static String decodeFormComponent(String s, int start, int end) {
    return decode(s, start, end, true);
  }

  private static String decode(String s, int start, int end, boolean plusIsSpace) {
    int i = start;
    while (i < end) {
      char c = s.charAt(i);
      if (c == '%' || c >= 0x80 || (plusIsSpace && c == '+')) {
        break;
      }
      i++;
    }
    if (i == end) {
      // The common case: plain ASCII, nothing to decode.
      return s.substring(start, end);
    }
    byte[] bytes = new byte[end - start];
    int n = 0;
    for (int j = start; j < i; j++) {
      bytes[n++] = (byte) s.charAt(j);
    }
    while (i < end) {
      char c = s.charAt(i);
      if (c == '%') {
        if (i + 2 >= end) {
          return null;
        }
        int hi = hexValue(s.charAt(i + 1));
        int lo = hexValue(s.charAt(i + 2));
        if (hi < 0 || lo < 0) {
          return null;
        }
        bytes[n++] = (byte) ((hi << 4) | lo);
        i += 3;
      } else if (c > 0xFF) {
        return null; // not a wire byte; cannot happen with Netty's ISO-8859-1 request line
      } else {
        bytes[n++] = plusIsSpace && c == '+' ? (byte) ' ' : (byte) c;
        i++;
      }
    }
    if (!isWellFormedUtf8(bytes, n)) {
      return null;
    }
    return new String(bytes, 0, n, StandardCharsets.UTF_8);
  }

  private static int hexValue(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }

  /**
   * Whether {@code bytes[0, length)} is well-formed UTF-8 as defined by Unicode table 3-7: no
   * overlong forms, no surrogates, nothing past U+10FFFF, no truncated sequence.
   */
  static boolean isWellFormedUtf8(byte[] bytes, int length) {
    int i = 0;
    while (i < length) {
      int b0 = bytes[i] & 0xFF;
      if (b0 < 0x80) {
        i++;
        continue;
      }
      int trailing;
      int lo = 0x80;
      int hi = 0xBF;
      if (b0 >= 0xC2 && b0 <= 0xDF) {
        trailing = 1;
      } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        trailing = 2;
        if (b0 == 0xE0) {
          lo = 0xA0; // overlong
        } else if (b0 == 0xED) {
          hi = 0x9F; // surrogates
        }
      } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        trailing = 3;
        if (b0 == 0xF0) {
          lo = 0x90; // overlong
        } else if (b0 == 0xF4) {
          hi = 0x8F; // past U+10FFFF
        }
      } else {
        return false;
      }
      if (length - i <= trailing) {
        return false;
      }
      int b1 = bytes[i + 1] & 0xFF;
      if (b1 < lo || b1 > hi) {
        return false;
      }
      for (int k = 2; k <= trailing; k++) {
        int b = bytes[i + k] & 0xFF;
        if (b < 0x80 || b > 0xBF) {
          return false;
        }
      }
      i += trailing + 1;
    }
    return true;
  }
}
