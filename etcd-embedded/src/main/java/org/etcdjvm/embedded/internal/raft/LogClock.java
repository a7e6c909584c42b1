package org.etcdjvm.embedded.internal.raft;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * The replicated time of the log, as this member estimates it now: a reading of the log's time
 * plus how long ago that was, by this JVM's monotonic clock; a command applied with a later time
 * than the estimate moves it forward. TTLs are counted in it.
 *
 * <p>The leader stamps each command with its estimate ({@link #stamp}); every member applies the
 * command at that time (never earlier than the one before), so all members expire the same keys at
 * the same log position. The leader's own commands never move its estimate (they carry it), so
 * commit latency is not lost from the log's time; a follower's estimate trails the leader's by the
 * shortest delay with which it has applied a command. Because the time advances by monotonic elapsed time, a jump of any member's wall clock,
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
  /** The time the last command was applied at: the same on every member (a function of the log). */
  private volatile Instant lastApplied;

  /**
   * The time to apply a command stamped {@code stamped} at (null: a command from before stamps
   * existed, then {@code fallback}, Atomix's entry time): never before the last one. The same on
   * every member.
   */
  public Instant applyTime(Instant stamped, Instant fallback) {
    Instant t = stamped != null ? stamped : fallback;
    Instant last = lastApplied;
    return last != null && last.isAfter(t) ? last : t;
  }

  /** A command was applied at {@code time}: the estimate moves up to it if it was behind. */
  public void applied(Instant time) {
    lastApplied = time;
    Mark m = mark;
    long now = System.nanoTime();
    if (m == null || time.isAfter(m.time.plusNanos(now - m.nanos))) {
      mark = new Mark(time, now);
    }
  }

  /** The time to stamp a command with: the estimate now (the first reading anchors it to the wall clock). */
  public Instant stamp() {
    Mark m = mark;
    if (m == null) {
      Instant wall = Instant.now();
      mark = new Mark(wall, System.nanoTime());
      return wall;
    }
    return m.time.plusNanos(System.nanoTime() - m.nanos);
  }

  /** The time the last command was applied at, or null before the first (for snapshots). */
  public Instant lastApplied() {
    return lastApplied;
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
