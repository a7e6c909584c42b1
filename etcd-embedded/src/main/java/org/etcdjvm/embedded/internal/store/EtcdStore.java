package org.etcdjvm.embedded.internal.store;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The etcd v1 key tree of one node: files and implicit directories, TTLs, the global index, and the
 * watch history (v1-api.md). Pure Java, no I/O. Writes take their time from the caller, so every
 * replica that applies the same writes with the same times reaches the same state; reads use this
 * node's own clock only to hide keys whose expiration has passed but whose replicated expiry has
 * not been applied yet (as etcd 0.1 did: each node's own clock decides what a read sees).
 *
 * <p><b>Threading.</b> Writes ({@link #apply}, {@link #expire}, {@link #readSnapshot},
 * {@link #writeSnapshot}) come from one thread at a time, the Raft state-machine thread. Reads
 * ({@link #get}, {@link #index}, {@link #nextExpiration}) and {@link #watches()} are safe from any
 * thread concurrently with writes; a read sees a write entirely or not at all.
 *
 * <p><b>Index.</b> A fresh store has index 0. Every successful write (set, test-and-set, delete, and
 * each expired key) takes the next index; a failed write changes nothing.
 *
 * <p><b>Failures.</b> Bad input or an etcd-level failure is a {@link StoreException} and leaves the
 * store untouched. Keys are cleaned and validated again here: the store never trusts its caller.
 */
public final class EtcdStore {
  private static final int SNAPSHOT_MAGIC = 0x45544344; // "ETCD"
  private static final int SNAPSHOT_VERSION = 1;

  private final StoreLimits limits;
  private final java.time.Clock readClock;
  private final WatchHub hub;
  private final ReentrantReadWriteLock rw = new ReentrantReadWriteLock();

  // ---- guarded by rw
  /** Every node by clean key, the root "/" included. */
  private Map<String, Node> nodes = new HashMap<>();
  /** Pending expirations, earliest first. */
  private TreeSet<Expiry> expiries = new TreeSet<>();
  // ---- written under the write lock, read without it
  private volatile long index;
  private volatile Instant nextExpiration;

  /** An empty store (only the root directory) at index 0, reading with the system clock. */
  public EtcdStore(StoreLimits limits) {
    this(limits, java.time.Clock.systemUTC());
  }

  /** An empty store whose reads hide keys expired by {@code readClock}. */
  public EtcdStore(StoreLimits limits, java.time.Clock readClock) {
    this.limits = Objects.requireNonNull(limits, "limits");
    this.readClock = Objects.requireNonNull(readClock, "readClock");
    this.hub = new WatchHub(limits);
    nodes.put("/", Node.dir("/"));
  }

  /** The limits this store enforces. */
  public StoreLimits limits() {
    return limits;
  }

  // ------------------------------------------------------------------ writes

  /**
   * Applies one write; returns the event (also appended to history and delivered to watchers).
   * {@code now} is the log's clock for this entry; an expiration already &le; now is accepted and
   * the key goes at the next {@link #expire} call.
   *
   * @throws StoreException the etcd error; the store is unchanged
   */
  public Event apply(WriteOp op, Instant now) throws StoreException {
    Objects.requireNonNull(op, "op");
    Objects.requireNonNull(now, "now");
    String key = KeyPath.clean(op.key(), limits.maxKeyBytes());
    if (op instanceof SetOp set) {
      validateSet(key, set);
    } else if (!op.internal() && KeyPath.isReserved(key)) {
      throw new StoreException(EtcdError.KEYWORD, "Delete");
    }
    List<WatchHub.Delivery> fired = new ArrayList<>(0);
    Event event;
    rw.writeLock().lock();
    try {
      event = op instanceof SetOp set ? setLocked(key, set) : deleteLocked(key);
      hub.record(event, fired);
      index = event.index();
      refreshNextExpiration();
    } finally {
      rw.writeLock().unlock();
    }
    WatchHub.deliver(fired);
    return event;
  }

  /**
   * Removes every key whose expiration &le; now, earliest first; returns one DELETE event per key
   * (prevValue, expiration set), each with its own new index, recorded in history and delivered to
   * watchers. Returns an empty list when nothing is due.
   */
  public List<Event> expire(Instant now) {
    Objects.requireNonNull(now, "now");
    List<Event> events = new ArrayList<>(0);
    List<WatchHub.Delivery> fired = new ArrayList<>(0);
    rw.writeLock().lock();
    try {
      while (!expiries.isEmpty() && !expiries.first().at().isAfter(now)) {
        Expiry due = expiries.pollFirst();
        Node file = nodes.get(due.key());
        removeFileLocked(file);
        Event e = new Event(Action.DELETE, file.key, false, file.value, null, false, file.expiration, index + 1);
        hub.record(e, fired);
        index = e.index();
        events.add(e);
      }
      refreshNextExpiration();
    } finally {
      rw.writeLock().unlock();
    }
    WatchHub.deliver(fired);
    return events;
  }

  // ------------------------------------------------------------------ reads

  /**
   * A file as a GET event, or a directory as the GET events of its immediate children sorted by key,
   * all carrying the current store index. A key whose expiration has passed by this node's clock is
   * absent already, before {@link #expire} removes it (a read never shows an expired key).
   *
   * @param cleanKey a key from {@link KeyPath#clean}
   * @throws StoreException KEY_NOT_FOUND "get: /foo" when missing (or under a file)
   */
  public GetResult get(String cleanKey) throws StoreException {
    return get(cleanKey, Integer.MAX_VALUE);
  }

  /**
   * Like {@link #get(String)}, refusing to list a directory of more than {@code maxChildren}
   * children: the listing is copied under the read lock, during which writes wait.
   *
   * @throws StoreException INVALID_FIELD "get: /dir has more than N entries" for such a directory
   */
  public GetResult get(String cleanKey, int maxChildren) throws StoreException {
    rw.readLock().lock();
    try {
      Node n = nodes.get(cleanKey);
      Instant now = nextExpiration == null ? null : readClock.instant(); // no clock read without TTLs
      if (n == null || n.children == null && expired(n, now)) {
        throw new StoreException(EtcdError.KEY_NOT_FOUND, "get: " + cleanKey);
      }
      long idx = index;
      if (n.children == null) {
        return new GetResult(new Event(Action.GET, n.key, false, null, n.value, false, n.expiration, idx), null);
      }
      if (n.children.size() > maxChildren) {
        throw new StoreException(EtcdError.INVALID_FIELD,
            "get: " + cleanKey + " has more than " + maxChildren + " entries");
      }
      Event[] children = new Event[n.children.size()];
      int i = 0;
      for (Node c : n.children.values()) {
        if (c.children != null) {
          children[i++] = new Event(Action.GET, c.key, true, null, null, false, null, idx);
        } else if (!expired(c, now)) {
          children[i++] = new Event(Action.GET, c.key, false, null, c.value, false, c.expiration, idx);
        }
      }
      return new GetResult(null, List.of(i == children.length ? children : java.util.Arrays.copyOf(children, i)));
    } finally {
      rw.readLock().unlock();
    }
  }

  /** Whether file {@code n} has expired by {@code now} (null: no key has a TTL). */
  private static boolean expired(Node n, Instant now) {
    return now != null && n.expiration != null && !n.expiration.isAfter(now);
  }

  /** The current index: that of the last applied write, 0 for a fresh store. */
  public long index() {
    return index;
  }

  /** Earliest pending expiration, for the leader's tick. Cheap. */
  public Optional<Instant> nextExpiration() {
    return Optional.ofNullable(nextExpiration);
  }

  /** The watches on this store. */
  public WatchHub watches() {
    return hub;
  }

  // ------------------------------------------------------------------ snapshots

  /**
   * Writes everything replicated: tree (empty directories too), TTLs, index, history and its 401
   * boundary; not live watchers. Format: magic {@code "ETCD"}, version 1, then store data.
   */
  public void writeSnapshot(DataOutputStream out) throws IOException {
    rw.readLock().lock();
    try {
      out.writeInt(SNAPSHOT_MAGIC);
      out.writeInt(SNAPSHOT_VERSION);
      out.writeLong(index);
      out.writeInt(nodes.size() - 1);
      writeChildren(out, nodes.get("/"));
      hub.writeHistory(out);
    } finally {
      rw.readLock().unlock();
    }
    out.flush();
  }

  /**
   * Replaces the whole state with a snapshot. Live watchers stay registered; those waiting for an
   * index the installed history holds a matching event for fire at once.
   *
   * @throws IOException on a truncated or corrupt snapshot or an unknown version; the store is then
   *     unchanged
   */
  public void readSnapshot(DataInputStream in) throws IOException {
    if (in.readInt() != SNAPSHOT_MAGIC) {
      throw new IOException("not an etcdjvm store snapshot");
    }
    int version = in.readInt();
    if (version != SNAPSHOT_VERSION) {
      throw new IOException("unsupported store snapshot version " + version);
    }
    long newIndex = in.readLong();
    int count = in.readInt();
    if (count < 0) {
      throw new IOException("corrupt snapshot: node count " + count);
    }
    Map<String, Node> newNodes = new HashMap<>();
    TreeSet<Expiry> newExpiries = new TreeSet<>();
    newNodes.put("/", Node.dir("/"));
    for (int i = 0; i < count; i++) {
      boolean dir = in.readBoolean();
      String key = BinaryIO.readNonNullString(in);
      Node parent = key.startsWith("/") && key.length() > 1 ? newNodes.get(KeyPath.parent(key)) : null;
      if (parent == null || parent.children == null || newNodes.containsKey(key)) {
        throw new IOException("corrupt snapshot: misplaced node " + key);
      }
      Node n;
      if (dir) {
        n = Node.dir(key);
      } else {
        n = new Node(key, BinaryIO.readNonNullString(in), BinaryIO.readInstant(in));
        if (n.expiration != null) {
          newExpiries.add(new Expiry(n.expiration, key));
        }
      }
      newNodes.put(key, n);
      parent.children.put(key, n);
    }
    long evicted = in.readLong();
    int historyCount = in.readInt();
    if (historyCount < 0) {
      throw new IOException("corrupt snapshot: history count " + historyCount);
    }
    // With a smaller history limit than the writer's, the hub keeps the newest and moves the 401 boundary.
    List<Event> history = new ArrayList<>(Math.min(historyCount, 1 << 16));
    for (int i = 0; i < historyCount; i++) {
      Event e = BinaryIO.readEvent(in);
      if (!history.isEmpty() && history.get(history.size() - 1).index() >= e.index()) {
        throw new IOException("corrupt snapshot: history out of order at " + e.index());
      }
      history.add(e);
    }
    List<WatchHub.Delivery> fired;
    rw.writeLock().lock();
    try {
      nodes = newNodes;
      expiries = newExpiries;
      fired = hub.replaceHistory(history, evicted, newIndex);
      index = newIndex;
      refreshNextExpiration();
    } finally {
      rw.writeLock().unlock();
    }
    WatchHub.deliver(fired);
  }

  // ------------------------------------------------------------------ internals

  private void validateSet(String key, SetOp op) throws StoreException {
    if (!op.internal() && KeyPath.isReserved(key)) {
      throw new StoreException(EtcdError.KEYWORD, "Set");
    }
    String value = op.value();
    if (value == null || value.isEmpty()) {
      throw new StoreException(EtcdError.VALUE_REQUIRED, "Set");
    }
    if (value.length() > limits.maxValueBytes() / 3 && KeyPath.utf8Length(value) > limits.maxValueBytes()) {
      throw new StoreException(EtcdError.INVALID_FIELD, "value: larger than " + limits.maxValueBytes() + " bytes");
    }
  }

  private Event setLocked(String key, SetOp op) throws StoreException {
    Node existing = nodes.get(key);
    if (existing != null && existing.children != null) {
      throw new StoreException(EtcdError.NOT_A_FILE, "set: " + key);
    }
    String prev = op.prevValue();
    if (prev != null) {
      if (existing == null && !prev.isEmpty()) {
        throw new StoreException(EtcdError.KEY_NOT_FOUND,
            "TestAndSet: key not found and previousValue is not empty " + key.substring(1) + ":" + prev + " ");
      }
      if (existing != null && !existing.value.equals(prev)) {
        throw new StoreException(EtcdError.TEST_FAILED, "TestAndSet: " + existing.value + "!=" + prev);
      }
    }
    long next = index + 1;
    if (existing != null) {
      String old = existing.value;
      if (existing.expiration != null) {
        expiries.remove(new Expiry(existing.expiration, key));
      }
      existing.value = op.value();
      existing.expiration = op.expiration();
      if (op.expiration() != null) {
        expiries.add(new Expiry(op.expiration(), key));
      }
      return new Event(Action.SET, key, false, old, op.value(), false, op.expiration(), next);
    }
    Node parent = ensureParentsLocked(key);
    Node file = new Node(key, op.value(), op.expiration());
    parent.children.put(key, file);
    nodes.put(key, file);
    if (op.expiration() != null) {
      expiries.add(new Expiry(op.expiration(), key));
    }
    return new Event(Action.SET, key, false, null, op.value(), true, op.expiration(), next);
  }

  /** Returns the parent directory of a missing key, creating missing ones; 102 if a file is in the way. */
  private Node ensureParentsLocked(String key) throws StoreException {
    // Check the whole path before creating anything: a failed set must not leave directories behind.
    int firstMissing = -1;
    Node deepest = nodes.get("/");
    for (int slash = key.indexOf('/', 1); slash > 0; slash = key.indexOf('/', slash + 1)) {
      Node n = nodes.get(key.substring(0, slash));
      if (n == null) {
        firstMissing = slash;
        break;
      }
      if (n.children == null) {
        throw new StoreException(EtcdError.NOT_A_FILE, "set: " + key);
      }
      deepest = n;
    }
    if (firstMissing < 0) {
      return deepest;
    }
    for (int slash = firstMissing; slash > 0; slash = key.indexOf('/', slash + 1)) {
      Node dir = Node.dir(key.substring(0, slash));
      deepest.children.put(dir.key, dir);
      nodes.put(dir.key, dir);
      deepest = dir;
    }
    return deepest;
  }

  private Event deleteLocked(String key) throws StoreException {
    Node file = nodes.get(key);
    if (file == null || file.children != null) {
      throw new StoreException(EtcdError.KEY_NOT_FOUND, "delete: " + key);
    }
    removeFileLocked(file);
    if (file.expiration != null) {
      expiries.remove(new Expiry(file.expiration, key));
    }
    return new Event(Action.DELETE, key, false, file.value, null, false, file.expiration, index + 1);
  }

  private void removeFileLocked(Node file) {
    nodes.remove(file.key);
    nodes.get(KeyPath.parent(file.key)).children.remove(file.key);
  }

  private void refreshNextExpiration() {
    nextExpiration = expiries.isEmpty() ? null : expiries.first().at();
  }

  private static void writeChildren(DataOutputStream out, Node dir) throws IOException {
    for (Node c : dir.children.values()) {
      out.writeBoolean(c.children != null);
      BinaryIO.writeString(out, c.key);
      if (c.children != null) {
        writeChildren(out, c);
      } else {
        BinaryIO.writeString(out, c.value);
        BinaryIO.writeInstant(out, c.expiration);
      }
    }
  }

  /** A file ({@code children == null}) or a directory. Mutable, guarded by the store's lock. */
  private static final class Node {
    final String key;
    final TreeMap<String, Node> children; // by full key, hence sorted by key
    String value;
    Instant expiration;

    Node(String key, String value, Instant expiration) {
      this.key = key;
      this.children = null;
      this.value = value;
      this.expiration = expiration;
    }

    private Node(String key) {
      this.key = key;
      this.children = new TreeMap<>();
    }

    static Node dir(String key) {
      return new Node(key);
    }
  }

  private record Expiry(Instant at, String key) implements Comparable<Expiry> {
    @Override
    public int compareTo(Expiry o) {
      int c = at.compareTo(o.at);
      return c != 0 ? c : key.compareTo(o.key);
    }
  }
}
