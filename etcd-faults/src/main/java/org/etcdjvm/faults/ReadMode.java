package org.etcdjvm.faults;

/**
 * How the linearizable reads of the workload are made.
 */
enum ReadMode {
  /**
   * {@code GET /v1/keys/<k>?consistent=true} to any member, following its 307 to the leader: the
   * leader answers after a Raft read barrier. The read the checker is meant for.
   */
  CONSISTENT,
  /**
   * A compare-and-set whose expected value no key ever holds, sent like a write: it goes through
   * the Raft log, and the state machine's refusal names the current value (error 101, {@code
   * TestAndSet: <current>!=<expected>}) or its absence (error 100). Linearizable without server
   * support for consistent reads; costs a log entry.
   */
  LOG,
  /**
   * A plain GET sent to the member the client last saw leading: the stand-in the issue names,
   * NOT linearizable (a leader cut off from the others answers from its stale replica until it
   * steps down) &mdash; useful to see the checker catch stale reads.
   */
  LEADER,
  /** CONSISTENT if the cluster answers {@code ?consistent=true} on a follower with a 307, else LOG. */
  AUTO;

  /**
   * What {@code -Detcdjvm.faults.reads} (or {@code --reads}) falls back to. Once every build
   * serves consistent reads, make this {@link #CONSISTENT}: the one line to switch.
   */
  static final ReadMode DEFAULT = AUTO;

  static ReadMode parse(String s) {
    return s == null || s.isBlank() ? DEFAULT : valueOf(s.strip().toUpperCase(java.util.Locale.ROOT));
  }
}
