package org.etcdjvm.embedded.internal.http;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.etcdjvm.embedded.internal.raft.MemberInfo;
import org.etcdjvm.embedded.internal.raft.Replica;
import org.etcdjvm.embedded.internal.store.EtcdStore;
import org.etcdjvm.embedded.internal.store.Event;
import org.etcdjvm.embedded.internal.store.StoreException;
import org.etcdjvm.embedded.internal.store.StoreLimits;
import org.etcdjvm.embedded.internal.store.WriteOp;

/**
 * A single-member {@link Replica} without Raft: writes are applied to a plain store at once, on the
 * submitting thread (one at a time, as the store requires), or, while {@link #holdWrites} is on,
 * kept pending until {@link #releaseHeldWrites}. Lets HTTP tests run in milliseconds.
 */
final class FakeReplica implements Replica {
  private static final MemberInfo SELF = new MemberInfo("fake", "http://127.0.0.1:7001", "http://127.0.0.1:4001");

  private final EtcdStore store;
  private final AtomicInteger submitted = new AtomicInteger();
  private final Queue<Held> held = new ConcurrentLinkedQueue<>();
  private volatile boolean holdWrites;

  private record Held(WriteOp op, CompletableFuture<Event> result) {}

  FakeReplica() {
    this(StoreLimits.defaults());
  }

  FakeReplica(StoreLimits limits) {
    this.store = new EtcdStore(limits);
  }

  /** While true, submitted writes stay pending. */
  void holdWrites(boolean hold) {
    this.holdWrites = hold;
  }

  /** Applies every held write, in order, and completes its future. */
  void releaseHeldWrites() {
    for (Held h; (h = held.poll()) != null; ) {
      complete(h.op, h.result);
    }
  }

  /** How many writes were submitted so far. */
  int submitted() {
    return submitted.get();
  }

  @Override
  public String name() {
    return SELF.name();
  }

  @Override
  public MemberInfo self() {
    return SELF;
  }

  @Override
  public EtcdStore store() {
    return store;
  }

  @Override
  public boolean isLeader() {
    return true;
  }

  @Override
  public Optional<MemberInfo> leader() {
    return Optional.of(SELF);
  }

  @Override
  public List<MemberInfo> members() {
    return List.of(SELF);
  }

  @Override
  public Instant startTime() {
    return Instant.EPOCH;
  }

  @Override
  public CompletableFuture<Event> submit(WriteOp op) {
    submitted.incrementAndGet();
    CompletableFuture<Event> result = new CompletableFuture<>();
    if (holdWrites) {
      held.add(new Held(op, result));
    } else {
      complete(op, result);
    }
    return result;
  }

  private void complete(WriteOp op, CompletableFuture<Event> result) {
    Event event;
    try {
      synchronized (store) {
        event = store.apply(op, Instant.now());
      }
    } catch (StoreException e) {
      result.completeExceptionally(e);
      return;
    }
    result.complete(event);
  }
}
