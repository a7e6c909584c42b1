package org.etcdjvm.embedded.internal.raft;

import java.util.Optional;

/**
 * A write reached a member that is not the Raft leader. Carries the leader when one is known, so the
 * HTTP layer can answer 307 to its client URL; with no leader it answers error 300.
 */
public final class NotLeaderException extends Exception {
  private static final long serialVersionUID = 1L;
  private final transient MemberInfo leader;

  public NotLeaderException(MemberInfo leader) {
    super(leader == null ? "no leader" : "not the leader; leader is " + leader.name(), null, false, false);
    this.leader = leader;
  }

  /** The current leader, if one is known and its client URL is known. */
  public Optional<MemberInfo> leader() {
    return Optional.ofNullable(leader);
  }
}
