package org.etcdjvm.embedded.internal.raft;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * The replicated time of the log, as this member estimates it now: the time of the last command
 * it applied plus how long ago that was, by this JVM's monotonic clock. TTLs are counted in it.
 *
 * <p>The leader stamps each command with its estimate; every member applies the command at that
 * time (never earlier than the one before), so all members expire the same keys at the same log
 * position. Because the time advances by monotonic elapsed time, a jump of any member's wall clock,
 * the leader's included, moves no expiry; and reads, which hide keys expired by this estimate,
 * are not moved by a local jump either. Time the cluster spends without a leader (a full restart)
 * does not count, as with etcd v3's leases, which are extended on a leader change. Before the first
 * command is applied (a new cluster), the estimate is the wall clock.
 *
 * <p>Thread-safe: the state machine's thread calls {@link #applied}; anyone reads.
 */
public final class LogClock extends Clock {
  /** The last applied command's time and {@link System#nanoTime()} when it was applied; swapped together. */
  private record Mark(Instant time, long nanos) {}

  private volatile Mark mark;

  /** The time to apply a command stamped {@code stamped} (null: unstamped) at: never before the last. */
  public Instant applyTime(Instant stamped, Instant fallback) {
    Instant t = stamped != null ? stamped : fallback;
    Mark m = mark;
    return m != null && m.time.isAfter(t) ? m.time : t;
  }

  /** A command was applied at {@code time}. */
  public void applied(Instant time) {
    mark = new Mark(time, System.nanoTime());
  }

  /** The time of the last command applied, or null before the first. */
  public Instant lastApplied() {
    Mark m = mark;
    return m == null ? null : m.time;
  }

  /**
   * The clock reads hide expired keys by: this estimate, or the wall clock when it is ahead by less
   * than a second. A follower's estimate trails the leader's by the replication delay (it learns
   * each command's time when it applies it), so without the wall clock a key would show on a
   * follower a few milliseconds past its expiration; a wall clock further off (a jump, or log time
   * that stood still while the cluster was down) is not trusted.
   */
  public Clock forReads() {
    return new Clock() {
      @Override
      public Instant instant() {
        Instant log = LogClock.this.instant();
        Instant wall = Instant.now();
        return wall.isAfter(log) && wall.isBefore(log.plusSeconds(1)) ? wall : log;
      }

      @Override
      public ZoneId getZone() {
        return ZoneOffset.UTC;
      }

      @Override
      public Clock withZone(ZoneId zone) {
        throw new UnsupportedOperationException("the log clock has no zone");
      }
    };
  }

  @Override
  public Instant instant() {
    Mark m = mark;
    return m == null ? Instant.now() : m.time.plusNanos(System.nanoTime() - m.nanos);
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    throw new UnsupportedOperationException("the log clock has no zone");
  }
}
