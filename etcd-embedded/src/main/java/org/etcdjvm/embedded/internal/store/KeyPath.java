package org.etcdjvm.embedded.internal.store;

/**
 * Key normalisation and prefix tests, with etcd 0.1.x semantics (Go {@code path.Clean("/" + key)}).
 *
 * <p>Stateless and thread-safe. {@link #clean} is the only method that validates; the other two
 * assume keys it produced.
 */
public final class KeyPath {
  private KeyPath() {}

  /**
   * Go path.Clean("/" + raw): leading slash added, '//' collapsed, trailing slash removed, '.' and
   * '..' resolved. Throws StoreException(INVALID_FIELD, "key: ...") when '..' would climb above the
   * root, when the key contains a NUL or other ISO control char or a lone surrogate (not UTF-8), or
   * when the UTF-8 length of the cleaned key exceeds maxKeyBytes.
   *
   * @param raw the key as received, e.g. the URL path after {@code /v1/keys/}; never null
   */
  public static String clean(String raw, int maxKeyBytes) throws StoreException {
    int n = raw.length();
    for (int i = 0; i < n; i++) {
      char c = raw.charAt(i);
      if (Character.isISOControl(c)) {
        throw new StoreException(EtcdError.INVALID_FIELD, "key: contains a control character");
      }
      if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(raw.charAt(i + 1))) {
          i++;
        } else {
          throw new StoreException(EtcdError.INVALID_FIELD, "key: not valid UTF-8");
        }
      }
    }
    String cleaned = isAlreadyClean(raw) ? raw : resolve(raw);
    if (utf8Length(cleaned) > maxKeyBytes) {
      throw new StoreException(EtcdError.INVALID_FIELD, "key: longer than " + maxKeyBytes + " bytes");
    }
    return cleaned;
  }

  /** true if the first segment is exactly "_etcd" or "ephemeralNodes" (so "/_etcdfoo" is false). */
  public static boolean isReserved(String cleanKey) {
    return firstSegmentIs(cleanKey, "/_etcd") || firstSegmentIs(cleanKey, "/ephemeralNodes");
  }

  /**
   * true if cleanKey equals prefix or lies under it by path segment ("/foo" covers "/foo/bar", not
   * "/foobar"; "/" covers all).
   */
  public static boolean covers(String cleanPrefix, String cleanKey) {
    if (cleanPrefix.equals("/")) {
      return cleanKey.startsWith("/");
    }
    return firstSegmentIs(cleanKey, cleanPrefix);
  }

  /** The parent of a clean key other than the root: "/a/b" → "/a", "/a" → "/". */
  static String parent(String cleanKey) {
    int slash = cleanKey.lastIndexOf('/');
    return slash <= 0 ? "/" : cleanKey.substring(0, slash);
  }

  static int utf8Length(String s) {
    int n = s.length();
    int bytes = n;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c >= 0x80) {
        if (c < 0x800) {
          bytes += 1;
        } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
          bytes += 2; // 4 bytes for 2 chars
          i++;
        } else {
          bytes += 2;
        }
      }
    }
    return bytes;
  }

  private static boolean firstSegmentIs(String key, String prefix) {
    return key.startsWith(prefix) && (key.length() == prefix.length() || key.charAt(prefix.length()) == '/');
  }

  /** Fast path for the common case: "/a/b" with no empty, "." or ".." segment and no trailing slash. */
  private static boolean isAlreadyClean(String s) {
    int n = s.length();
    if (n < 2 || s.charAt(0) != '/' || s.charAt(n - 1) == '/') {
      return false;
    }
    int segStart = 1;
    for (int i = 1; i <= n; i++) {
      if (i == n || s.charAt(i) == '/') {
        int len = i - segStart;
        if (len == 0
            || (len == 1 && s.charAt(segStart) == '.')
            || (len == 2 && s.charAt(segStart) == '.' && s.charAt(segStart + 1) == '.')) {
          return false;
        }
        segStart = i + 1;
      }
    }
    return true;
  }

  private static String resolve(String raw) throws StoreException {
    StringBuilder out = new StringBuilder(raw.length() + 1);
    int n = raw.length();
    int i = 0;
    while (i < n) {
      int end = raw.indexOf('/', i);
      if (end < 0) {
        end = n;
      }
      int len = end - i;
      if (len == 0 || (len == 1 && raw.charAt(i) == '.')) {
        // empty or "." segment: nothing
      } else if (len == 2 && raw.charAt(i) == '.' && raw.charAt(i + 1) == '.') {
        if (out.length() == 0) {
          // Go's path.Clean would silently stay at the root; we refuse (v1-api.md Part A).
          throw new StoreException(EtcdError.INVALID_FIELD, "key: '..' climbs above the root");
        }
        out.setLength(out.lastIndexOf("/"));
      } else {
        out.append('/').append(raw, i, end);
      }
      i = end + 1;
    }
    return out.length() == 0 ? "/" : out.toString();
  }
}
