package org.etcdjvm.embedded.internal.store;

/**
 * Size limits of one store. Immutable and thread-safe.
 *
 * @param maxKeyBytes   longest clean key, in UTF-8 bytes (default 1024)
 * @param maxValueBytes largest value, in UTF-8 bytes (default 1 MiB)
 * @param historySize   how many recent events are kept for watches from an index (default 1000)
 * @param maxWatchers   how many watches may be pending at once (default 10 000)
 * @param maxHistoryBytes how much of keys, values and previous values those events may hold, counted
 *     in characters (default 16 MiB): the oldest go first beyond it, the newest is always kept
 * @throws IllegalArgumentException if any limit is below 1
 */
public record StoreLimits(int maxKeyBytes, int maxValueBytes, int historySize, int maxWatchers, long maxHistoryBytes) {
  /** The history's default budget, 16 MiB: 1000 events of values up to ~8 KB. */
  public static final long DEFAULT_MAX_HISTORY_BYTES = 16L * 1024 * 1024;

  public StoreLimits {
    if (maxKeyBytes < 1 || maxValueBytes < 1 || historySize < 1 || maxWatchers < 1 || maxHistoryBytes < 1) {
      throw new IllegalArgumentException("limits must be >= 1: " + maxKeyBytes + ", " + maxValueBytes + ", "
          + historySize + ", " + maxWatchers + ", " + maxHistoryBytes);
    }
  }

  /** With the default history budget. */
  public StoreLimits(int maxKeyBytes, int maxValueBytes, int historySize, int maxWatchers) {
    this(maxKeyBytes, maxValueBytes, historySize, maxWatchers, DEFAULT_MAX_HISTORY_BYTES);
  }

  /** 1024-byte keys, 1 MiB values, 1000 events of history holding at most 16 MiB, 10 000 watchers. */
  public static StoreLimits defaults() {
    return new StoreLimits(1024, 1_048_576, 1000, 10_000);
  }
}
