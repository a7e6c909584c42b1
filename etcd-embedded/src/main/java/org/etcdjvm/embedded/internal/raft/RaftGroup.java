package org.etcdjvm.embedded.internal.raft;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * This member's seat in the Raft group that replicates the store: everything the node needs from a
 * consensus engine, and nothing of how one works. {@link org.etcdjvm.embedded.internal.raft.atomix.AtomixRaftGroup}
 * implements it with Atomix 3.1; tests use an in-memory group of one.
 *
 * <p>Members are named by their peer address ({@code host:port}). Commands are opaque bytes; the
 * group applies each committed command, in log order, to the {@link ReplicatedState} it was built
 * with, on every member.
 *
 * <p>Thread-safe; no method blocks.
 */
public interface RaftGroup extends AutoCloseable {

  /**
   * Bootstraps, joins or restarts this member, as its data directory and its peers say (see the
   * implementation), and completes once a leader is known and accepts commands. Fails with a
   * message naming the problem when this member must not serve (it belongs to another cluster, it
   * was removed, the cluster is full, its peers were started with a different member list).
   */
  CompletableFuture<Void> start();

  /**
   * Replicates {@code command} and completes with what {@link ReplicatedState#apply} returned for it
   * (the same on every replica), once committed and applied on the leader and on this member. Only
   * the leader accepts commands; callers keep at most one command in flight (the batcher does).
   * Fails with {@link java.util.concurrent.TimeoutException} or another exception when the outcome
   * is unknown.
   */
  CompletableFuture<byte[]> execute(byte[] command);

  /**
   * A linearizable read barrier (Raft's ReadIndex): completes once this member, the leader, has
   * heard from a majority after the call (so it still leads) and its replica has applied every
   * entry committed when the call began. A local read after that sees every write acknowledged
   * before the call. Fails with {@link NotLeaderException} on a follower.
   */
  CompletableFuture<Void> readBarrier();

  /** This member's peer address. */
  String self();

  /** Whether this member leads right now. */
  boolean isLeader();

  /**
   * The leader's peer address as this member knows it: empty during an election, and empty once the
   * leader has been silent for an election timeout (so a dead leader is not named for longer).
   */
  Optional<String> leader();

  /** Peer addresses of the members in the current configuration (voting or catching up), this one included if it is a member. */
  List<String> members();

  /**
   * Removes the member at {@code peerAddress} from the configuration. Works from any member (the
   * request goes to the leader). Removing this member itself makes it leave and stop; another member
   * is told it was removed, and stops ({@link #stopped()}). Completes once the new configuration is
   * committed.
   */
  CompletableFuture<Void> remove(String peerAddress);

  /**
   * Completes, with the reason, when this member stopped serving on its own: it was removed from
   * the cluster, or its replica could not be restored (a damaged snapshot). The node then closes.
   */
  CompletableFuture<String> stopped();

  /** Takes a snapshot and drops the log it covers, now rather than on the engine's schedule. */
  CompletableFuture<Void> compact();

  /** What {@link #start()} is waiting for right now, for a start-timeout message. */
  String waitingFor();

  /** Stops this member without leaving the cluster; idempotent; waits a few seconds at most. */
  @Override
  void close();
}
