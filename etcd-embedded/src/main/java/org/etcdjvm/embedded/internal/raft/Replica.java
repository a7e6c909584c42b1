package org.etcdjvm.embedded.internal.raft;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.etcdjvm.embedded.internal.store.EtcdStore;
import org.etcdjvm.embedded.internal.store.Event;
import org.etcdjvm.embedded.internal.store.WriteOp;

/**
 * What the HTTP layer sees of this node: the local replica of the store (for reads and watches, no
 * Raft round trip), who leads, and a way to submit writes through Raft.
 *
 * <p>Thread-safe: every method may be called from any thread (Netty event loops included) and none
 * blocks.
 */
public interface Replica {

  /** This member's name. */
  String name();

  /** This member's own peer and client URLs. */
  MemberInfo self();

  /**
   * The local replica. Reads ({@code get}, {@code index}) and watch registration are safe from any
   * thread; writes must go through {@link #submit}.
   */
  EtcdStore store();

  /** Whether this member is the Raft leader right now. */
  boolean isLeader();

  /** The current leader, if known (including this member). */
  Optional<MemberInfo> leader();

  /** Every member of the cluster, this one included, in no particular order. */
  List<MemberInfo> members();

  /**
   * Now, in the time TTLs are counted in: the replicated log's time as this member estimates it
   * (see {@link LogClock}); a TTL's expiration is this plus the TTL. Default: the wall clock.
   */
  default Instant now() {
    return Instant.now();
  }

  /**
   * Whether this member serves reads, watches and writes yet: once it knows a leader and its
   * replica has caught up with what was committed when it started. Until then the HTTP layer
   * answers 503 (error 300, "starting"). Default true.
   */
  default boolean ready() {
    return true;
  }

  /** What this member still waits for before it is {@link #ready}, for the 503's cause. */
  default String waitingFor() {
    return "nothing";
  }

  /** When this node started. */
  Instant startTime();

  /**
   * Replicates one write and completes with its result once committed and applied.
   *
   * <p>Fails with {@link org.etcdjvm.embedded.internal.store.StoreException} for an etcd error
   * (key not found, compare failed, ...), {@link NotLeaderException} when this member is not the
   * leader, or {@link java.util.concurrent.TimeoutException} when the commit did not happen in time
   * (outcome unknown). Never blocks the caller.
   */
  CompletableFuture<Event> submit(WriteOp op);

  /**
   * Completes when a read of the local replica would see every write acknowledged before this call
   * (see {@link RaftGroup#readBarrier}); only on the leader, else fails with
   * {@link NotLeaderException}.
   */
  default CompletableFuture<Void> readBarrier() {
    return isLeader() ? CompletableFuture.completedFuture(null)
        : CompletableFuture.failedFuture(new NotLeaderException(leader().orElse(null)));
  }

  /**
   * Removes the member called {@code name} from the cluster (the request goes to the leader).
   * Fails with a {@link org.etcdjvm.embedded.internal.store.StoreException} (error 100) for an
   * unknown name, and with an {@link IllegalStateException} saying why when the cluster refuses.
   */
  default CompletableFuture<Void> removeMember(String name) {
    return CompletableFuture.failedFuture(new UnsupportedOperationException("membership changes are not supported here"));
  }
}
