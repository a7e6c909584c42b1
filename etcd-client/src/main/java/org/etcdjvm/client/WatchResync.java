package org.etcdjvm.client;

import java.util.List;
import java.util.Objects;

/**
 * The server no longer had the events a watch needed (error 401: its history was cleared), so the
 * watch re-read the watched key and continues after that snapshot. Events between {@link
 * #missedFrom()} and {@link #index()} were not delivered; treat {@link #entries()} as the new
 * truth (for example, rebuild a cache from it).
 *
 * <p>{@code entries()} is what {@code GET /v1/keys/<prefix>} returned: the immediate children of
 * a directory (one level, as etcd v1 lists), a one-element list when the prefix is a file, or an
 * empty list when it does not exist. Immutable.
 */
public final class WatchResync {
  private final List<EtcdResponse> entries;
  private final long index;
  private final long missedFrom;
  private final long oldestAvailable;

  /** Made by a watch; public for tests and fakes. */
  public WatchResync(List<EtcdResponse> entries, long index, long missedFrom, long oldestAvailable) {
    this.entries = List.copyOf(Objects.requireNonNull(entries, "entries == null"));
    this.index = index;
    this.missedFrom = missedFrom;
    this.oldestAvailable = oldestAvailable;
  }

  /** The watched key's contents now. */
  public List<EtcdResponse> entries() {
    return entries;
  }

  /**
   * The store index the snapshot was read at; the watch resumes at {@code index() + 1}. 0 if the
   * server gave no index (nothing stored at all); the watch then resumes at {@link
   * #oldestAvailable()}.
   */
  public long index() {
    return index;
  }

  /** The index the watch had asked for when the server said it was cleared. */
  public long missedFrom() {
    return missedFrom;
  }

  /** The oldest index the server still had (the error's cause); 0 if unknown. */
  public long oldestAvailable() {
    return oldestAvailable;
  }

  @Override public String toString() {
    return "WatchResync{" + entries.size() + " entries @" + index + ", missedFrom=" + missedFrom
        + ", oldestAvailable=" + oldestAvailable + "}";
  }
}
