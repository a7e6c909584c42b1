package org.etcdjvm.embedded.internal.store;

import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * One-shot watches by key prefix, plus the bounded history of recent events that lets a client resume
 * from an index. Obtained from {@link EtcdStore#watches()}.
 *
 * <p>Thread-safe: {@link #watch} and {@link Watch#cancel} may be called from any thread. Guarantees:
 *
 * <ul>
 *   <li>A watch sees every event with index &ge; its start index at or under its prefix, or it fails
 *       at once with error 401: registration is atomic with the history lookup and with publication,
 *       so no event slips between them.
 *   <li>History keeps the last {@link StoreLimits#historySize()} events (writes and expiries), fewer
 *       when their keys, values and previous values would hold more than
 *       {@link StoreLimits#maxHistoryBytes()} characters (the newest is always kept). Asking
 *       for an index of which some event was evicted fails with 401, {@code cause} = the oldest index
 *       still available; the client must re-read and watch from the current index.
 *   <li>Callbacks run outside every lock: on the watching thread for a history hit, else on the
 *       thread applying the write, after the change is visible to readers. They must be quick. A
 *       callback that throws is logged and ignored.
 *   <li>A snapshot install ({@link EtcdStore#readSnapshot}) keeps pending watches; those whose start
 *       index is matched by an event of the installed history fire with it.
 * </ul>
 */
public final class WatchHub {
  private static final System.Logger LOG = System.getLogger(WatchHub.class.getName());
  private static final Watch NO_OP = () -> {};

  private final Object lock = new Object();
  private final int historySize;
  private final long maxHistoryBytes;
  private final int maxWatchers;

  // ---- guarded by lock
  /** Ring buffer of the last events, in strictly increasing index order. */
  private final Event[] ring;
  private int head;
  private int size;
  /** What the events in the ring hold, by {@link #cost}. */
  private long historyBytes;
  /** Highest index evicted from the history, 0 if none: a watch from an index <= this fails (401). */
  private long evictedUpTo;
  /** Index of the last recorded event, i.e. the store index. */
  private long lastIndex;
  private final Map<String, LinkedHashSet<Registration>> byPrefix = new HashMap<>();
  private int active;

  WatchHub(StoreLimits limits) {
    this.historySize = limits.historySize();
    this.maxHistoryBytes = limits.maxHistoryBytes();
    this.maxWatchers = limits.maxWatchers();
    this.ring = new Event[historySize];
  }

  /**
   * sinceIndex 0 = the next change at or under prefix; N > 0 = first event with index >= N at or
   * under prefix, from history at once if present (the callback may run before watch() returns),
   * else the next one. Throws StoreException(EVENT_INDEX_CLEARED, cause = "&lt;oldest index still
   * available&gt;") when N is older than the retained history (i.e. some event with index >= N was
   * evicted); StoreException(RAFT_INTERNAL, "too many watchers") past limits.maxWatchers(). One-shot:
   * the callback fires at most once, then the watch is gone.
   *
   * @param cleanPrefix a key from {@link KeyPath#clean}; "/" watches everything
   * @throws IllegalArgumentException if sinceIndex is negative
   */
  public Watch watch(String cleanPrefix, long sinceIndex, Consumer<Event> callback) throws StoreException {
    Objects.requireNonNull(cleanPrefix, "cleanPrefix");
    Objects.requireNonNull(callback, "callback");
    if (sinceIndex < 0) {
      throw new IllegalArgumentException("sinceIndex < 0: " + sinceIndex);
    }
    Event hit = null;
    Registration reg = null;
    synchronized (lock) {
      if (sinceIndex > 0) {
        if (sinceIndex <= evictedUpTo) {
          long oldest = size > 0 ? at(0).index() : evictedUpTo + 1;
          throw new StoreException(EtcdError.EVENT_INDEX_CLEARED, Long.toString(oldest));
        }
        hit = findLocked(cleanPrefix, sinceIndex);
      }
      if (hit == null) {
        if (active >= maxWatchers) {
          throw new StoreException(EtcdError.RAFT_INTERNAL, "too many watchers");
        }
        reg = new Registration(cleanPrefix, sinceIndex > 0 ? sinceIndex : lastIndex + 1, callback);
        byPrefix.computeIfAbsent(cleanPrefix, k -> new LinkedHashSet<>()).add(reg);
        active++;
      }
    }
    if (hit != null) {
      invoke(callback, hit);
      return NO_OP;
    }
    return reg;
  }

  /** How many watches are pending. */
  public int activeWatchers() {
    synchronized (lock) {
      return active;
    }
  }

  /** The index of the oldest event still in the history; 0 if history empty. */
  public long oldestRetainedIndex() {
    synchronized (lock) {
      return size == 0 ? 0 : at(0).index();
    }
  }

  /** A pending watch. */
  public interface Watch {
    /** Idempotent; frees the slot. Does nothing once the watch has fired. */
    void cancel();
  }

  // ---------------------------------------------------------------- store side

  /**
   * Appends one event to the history and moves the watches it satisfies into {@code fired}. Called by
   * the store under its write lock; the store passes {@code fired} to {@link #deliver} after
   * releasing it.
   */
  void record(Event e, List<Delivery> fired) {
    synchronized (lock) {
      appendLocked(e);
      lastIndex = e.index();
      if (byPrefix.isEmpty()) {
        return;
      }
      String key = e.key();
      takeLocked("/", e, fired);
      for (int slash = key.indexOf('/', 1); slash > 0; slash = key.indexOf('/', slash + 1)) {
        takeLocked(key.substring(0, slash), e, fired);
      }
      if (key.length() > 1) {
        takeLocked(key, e, fired);
      }
    }
  }

  static void deliver(List<Delivery> fired) {
    for (int i = 0; i < fired.size(); i++) {
      fired.get(i).run();
    }
  }

  /** A matched watch and its event, to deliver once the store lock is released. */
  record Delivery(Registration registration, Event event) {
    void run() {
      invoke(registration.callback, event);
    }
  }

  void writeHistory(DataOutput out) throws IOException {
    synchronized (lock) {
      out.writeLong(evictedUpTo);
      out.writeInt(size);
      for (int i = 0; i < size; i++) {
        BinaryIO.writeEvent(out, at(i));
      }
    }
  }

  /**
   * Replaces the history (snapshot install). Pending watches stay; those matched by an installed
   * event with index >= their start fire with the first such event.
   */
  List<Delivery> replaceHistory(List<Event> events, long evicted, long storeIndex) {
    synchronized (lock) {
      java.util.Arrays.fill(ring, null);
      head = 0;
      size = 0;
      historyBytes = 0;
      evictedUpTo = evicted;
      for (Event e : events) {
        appendLocked(e);
      }
      lastIndex = storeIndex;
      List<Delivery> out = new ArrayList<>();
      for (Iterator<Map.Entry<String, LinkedHashSet<Registration>>> it = byPrefix.entrySet().iterator();
          it.hasNext(); ) {
        Map.Entry<String, LinkedHashSet<Registration>> entry = it.next();
        for (Iterator<Registration> regs = entry.getValue().iterator(); regs.hasNext(); ) {
          Registration r = regs.next();
          Event hit = findLocked(r.prefix, r.minIndex);
          if (hit != null) {
            regs.remove();
            r.done = true;
            active--;
            out.add(new Delivery(r, hit));
          }
        }
        if (entry.getValue().isEmpty()) {
          it.remove();
        }
      }
      return out;
    }
  }

  // ---------------------------------------------------------------- internals

  private Event at(int i) {
    return ring[(head + i) % ring.length];
  }

  private void appendLocked(Event e) {
    if (size == ring.length) {
      evictOldestLocked();
    }
    ring[(head + size) % ring.length] = e;
    size++;
    historyBytes += cost(e);
    while (size > 1 && historyBytes > maxHistoryBytes) {
      evictOldestLocked();
    }
  }

  private void evictOldestLocked() {
    Event oldest = ring[head];
    evictedUpTo = oldest.index();
    historyBytes -= cost(oldest);
    ring[head] = null;
    head = (head + 1) % ring.length;
    size--;
  }

  /** What an event holds, counted in characters of its key, value and previous value. */
  private static long cost(Event e) {
    return (long) e.key().length() + (e.value() == null ? 0 : e.value().length())
        + (e.prevValue() == null ? 0 : e.prevValue().length());
  }

  /** First event with index >= from at or under prefix, or null. */
  private Event findLocked(String prefix, long from) {
    int lo = 0;
    int hi = size;
    while (lo < hi) { // first position with index >= from
      int mid = (lo + hi) >>> 1;
      if (at(mid).index() < from) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    for (int i = lo; i < size; i++) {
      Event e = at(i);
      if (KeyPath.covers(prefix, e.key())) {
        return e;
      }
    }
    return null;
  }

  private void takeLocked(String prefix, Event e, List<Delivery> fired) {
    LinkedHashSet<Registration> regs = byPrefix.get(prefix);
    if (regs == null) {
      return;
    }
    for (Iterator<Registration> it = regs.iterator(); it.hasNext(); ) {
      Registration r = it.next();
      if (r.minIndex <= e.index()) {
        it.remove();
        r.done = true;
        active--;
        fired.add(new Delivery(r, e));
      }
    }
    if (regs.isEmpty()) {
      byPrefix.remove(prefix);
    }
  }

  private static void invoke(Consumer<Event> callback, Event e) {
    try {
      callback.accept(e);
    } catch (RuntimeException ex) {
      LOG.log(System.Logger.Level.WARNING, "watch callback failed for event " + e.index(), ex);
    }
  }

  final class Registration implements Watch {
    final String prefix;
    final long minIndex;
    final Consumer<Event> callback;
    boolean done; // guarded by lock

    Registration(String prefix, long minIndex, Consumer<Event> callback) {
      this.prefix = prefix;
      this.minIndex = minIndex;
      this.callback = callback;
    }

    @Override
    public void cancel() {
      synchronized (lock) {
        if (done) {
          return;
        }
        done = true;
        active--;
        LinkedHashSet<Registration> regs = byPrefix.get(prefix);
        if (regs != null) {
          regs.remove(this);
          if (regs.isEmpty()) {
            byPrefix.remove(prefix);
          }
        }
      }
    }
  }
}
