package org.etcdjvm.embedded.internal.store;

/**
 * Size limits of one store. Immutable and thread-safe.
 *
 * @param maxKeyBytes   longest clean key, in UTF-8 bytes (default 1024)
 * @param maxValueBytes largest value, in UTF-8 bytes (default 1 MiB)
 * @param historySize   how many recent events are kept for watches from an index (default 1000)
 * @param maxWatchers   how many watches may be pending at once (default 10 000)
 * @throws IllegalArgumentException if any limit is below 1
 */
public record StoreLimits(int maxKeyBytes, int maxValueBytes, int historySize, int maxWatchers) {
  public StoreLimits {
    if (maxKeyBytes < 1 || maxValueBytes < 1 || historySize < 1 || maxWatchers < 1) {
      throw new IllegalArgumentException(
          "limits must be >= 1: " + maxKeyBytes + ", " + maxValueBytes + ", " + historySize + ", " + maxWatchers);
    }
  }

  /** 1024-byte keys, 1 MiB values, 1000 events of history, 10 000 watchers. */
  public static StoreLimits defaults() {
    return new StoreLimits(1024, 1_048_576, 1000, 10_000);
  }
}
