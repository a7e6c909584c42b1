package org.etcdjvm.client;

/**
 * A watch asked for an index older than the history the server keeps (error 401, {@code The event
 * in requested index is outdated and cleared}); {@link #cause()} holds the oldest index still
 * available. A {@link Watch} handles this itself by re-reading the directory and signalling {@link
 * Watch.Builder#onResync}; it reaches {@link Watch.Builder#onError} only when no resync callback is
 * set, so a gap is never silent.
 */
public final class IndexClearedException extends EtcdException {
  /** Usually made by {@link EtcdException#of}; public for tests and fakes. */
  public IndexClearedException(String errorMessage, String cause, long index) {
    super(EVENT_INDEX_CLEARED, errorMessage, cause, index);
  }

  /** The oldest index the server still has, parsed from {@link #cause()}; 0 if unknown. */
  public long oldestIndex() {
    String cause = cause();
    if (cause == null) return 0;
    int end = cause.length();
    int start = end;
    while (start > 0 && Character.isDigit(cause.charAt(start - 1))) start--;
    if (start == end) return 0;
    try {
      return Long.parseLong(cause.substring(start, end));
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
