package org.etcdjvm.embedded.internal.http;

/**
 * The request-target of an HTTP request split into its raw (still percent-encoded) path and query.
 * Immutable and thread-safe.
 *
 * @param rawPath  the path as sent, always starting with {@code /}
 * @param rawQuery the text after the first {@code ?}, without the fragment; null when there is no
 *     {@code ?}
 */
record RequestTarget(String rawPath, String rawQuery) {

  /** Stands in for a request whose target could not be read. */
  static final RequestTarget NONE = new RequestTarget("/", null);

  /**
   * Splits a request-target in origin form ({@code /v1/keys/a?b=c}) or absolute form
   * ({@code http://host:4001/v1/keys/a}). Anything else (e.g. {@code *}) gets the path {@code /}
   * after the authority, so it routes to 404.
   */
  static RequestTarget parse(String uri) {
    int pathStart = 0;
    if (uri.isEmpty() || uri.charAt(0) != '/') {
      int scheme = uri.indexOf("://");
      int slash = scheme < 0 ? -1 : uri.indexOf('/', scheme + 3);
      int question = scheme < 0 ? -1 : uri.indexOf('?', scheme + 3);
      if (slash < 0 || (question >= 0 && question < slash)) {
        String query = question < 0 ? null : stripFragment(uri.substring(question + 1));
        return new RequestTarget("/", query);
      }
      pathStart = slash;
    }
    int end = uri.indexOf('#', pathStart);
    if (end < 0) {
      end = uri.length();
    }
    int question = uri.indexOf('?', pathStart);
    if (question < 0 || question > end) {
      return new RequestTarget(pathStart == 0 && end == uri.length() ? uri : uri.substring(pathStart, end), null);
    }
    return new RequestTarget(uri.substring(pathStart, question), uri.substring(question + 1, end));
  }

  private static String stripFragment(String s) {
    int hash = s.indexOf('#');
    return hash < 0 ? s : s.substring(0, hash);
  }
}
