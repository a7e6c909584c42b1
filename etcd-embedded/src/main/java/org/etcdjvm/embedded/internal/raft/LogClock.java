package org.etcdjvm.embedded.internal.raft;

import java.time.Clock;
import java.time.Duration;
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
 * the same log position. A command written by a member that is not the leader (its own
 * registration) carries no time of its own ({@link #UNSTAMPED}) and is applied at the log's last
 * time: a member that has not caught up cannot move the log's time. The leader's own commands never
 * move its estimate (they carry it), so commit latency is not lost from the log's time; a
 * follower's estimate trails the leader's by the shortest delay with which it has applied a
 * command. Because the time advances by monotonic elapsed time, a jump of a running member's wall
 * clock, the leader's included, moves no expiry; and reads, which hide keys expired by this
 * estimate, are not moved by a local jump either.
 *
 * <p>A member catching up after a start (replaying its log, or receiving entries it missed while it
 * was down) anchors its estimate on the last entry it applies: that entry's time plus how long ago,
 * by this machine's wall clock, the leader appended it. So the time a member, or the whole cluster,
 * spent down counts, as etcd 0.1's absolute expirations did, and a restarted member does not come
 * back with a time that trails the members that stayed up (were it then elected, the log's time
 * would have stood still and later leapt forward, expiring keys early). Only this one step trusts
 * wall clocks: a restart across a wall clock jump, or wall clocks of different machines apart by
 * more than NTP keeps them, moves the log's time by that much. Before anything is applied (a new
 * cluster), the estimate is the wall clock.
 *
 * <p>Thread-safe: the state machine's thread calls {@link #applied}; anyone reads.
 */
public final class LogClock extends Clock {
  /** The last applied command's time and {@link System#nanoTime()} when it was applied; swapped together. */
  private record Mark(Instant time, long nanos) {}

  /**
   * What a member that is not the leader stamps its commands with: no time of its own, applied at
   * the log's last time (at the leader's wall clock for a new log's first command).
   */
  public static final Instant UNSTAMPED = Instant.MIN;

  /** An entry applied later than this after the leader appended it is one this member is catching up on. */
  private static final long LATE_NANOS = 1_000_000_000L;

  private volatile Mark mark;
  /** The time the last command was applied at: the same on every member (a function of the log). */
  private volatile Instant lastApplied;
  /** The leader's wall clock when it appended the last command that carried a time (for snapshots). */
  private volatile Instant lastStampedWall;
  /** Until the member is ready: entries applied late anchor the estimate by the wall clock. */
  private volatile boolean catchingUp = true;

  /**
   * The time to apply a command stamped {@code stamped} at: never before the last one. A command
   * without a time of its own ({@link #UNSTAMPED}, or null for one written before stamps existed)
   * takes the last time, or {@code entryTime} (the leader's wall clock when it appended the entry)
   * as the log's first. The same on every member.
   */
  public Instant applyTime(Instant stamped, Instant entryTime) {
    Instant last = lastApplied;
    if (stamped == null || stamped.equals(UNSTAMPED)) {
      return last != null ? last : entryTime;
    }
    return last != null && last.isAfter(stamped) ? last : stamped;
  }

  /**
   * A command was applied at {@code time} (from {@link #applyTime}).
   *
   * @param stamped whether the command carried a time of its own; one that did not only moves the
   *     estimate when it is the log's first
   * @param entryTime the leader's wall clock when it appended the entry (null: unknown)
   */
  public void applied(Instant time, boolean stamped, Instant entryTime) {
    boolean first = lastApplied == null;
    lastApplied = time;
    if (!stamped && !first) {
      return;
    }
    if (stamped) {
      lastStampedWall = entryTime;
    }
    long now = System.nanoTime();
    if (catchingUp && entryTime != null) {
      long late = lateNanos(entryTime);
      if (late > LATE_NANOS) {
        mark = new Mark(time.plusNanos(late), now); // the last late entry wins: see the class comment
        return;
      }
    }
    Mark m = mark;
    if (m == null || time.isAfter(m.time.plusNanos(now - m.nanos))) {
      mark = new Mark(time, now);
    }
  }

  /** A command with a time of its own, appended at an unknown wall time, was applied at {@code time}. */
  public void applied(Instant time) {
    applied(time, true, null);
  }

  /** How long ago, by this machine's wall clock, {@code wall} was; 0 if it is in the future. */
  private static long lateNanos(Instant wall) {
    Duration late = Duration.between(wall, Instant.now());
    if (late.isNegative()) {
      return 0;
    }
    return late.compareTo(Duration.ofDays(36500)) > 0 ? Duration.ofDays(36500).toNanos() : late.toNanos();
  }

  /** The member is ready: from now on its estimate moves by the monotonic clock and stamps only. */
  public void caughtUp() {
    catchingUp = false;
  }

  /** The leader's wall clock when it appended the last command that carried a time, or null (for snapshots). */
  public Instant lastStampedWall() {
    return lastStampedWall;
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
