package org.etcdjvm.embedded.internal.raft;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.time.Instant;

/**
 * The state a {@link RaftGroup} replicates. Called by the group on one thread at a time, in log
 * order, identically on every member.
 */
public interface ReplicatedState {

  /**
   * Applies one committed command. {@code time} is the log's clock for this entry (the leader's
   * wall clock when it appended the entry), the same on every member. Must be deterministic and
   * must not throw for any command a member could have submitted.
   */
  byte[] apply(byte[] command, Instant time);

  /** Writes the whole state; a failure must throw, never write a partial snapshot silently. */
  void writeSnapshot(DataOutputStream out) throws IOException;

  /** Replaces the whole state with a snapshot written by {@link #writeSnapshot}. */
  void readSnapshot(DataInputStream in) throws IOException;
}
