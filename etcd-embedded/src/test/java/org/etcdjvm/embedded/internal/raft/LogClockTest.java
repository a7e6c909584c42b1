package org.etcdjvm.embedded.internal.raft;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class LogClockTest {

  @Test
  void theLeadersOwnCommandsDoNotMakeItsTimeFallBehind() throws Exception {
    LogClock leader = new LogClock();
    for (int i = 0; i < 40; i++) {
      Instant stamped = leader.stamp();
      Thread.sleep(5); // the command's commit latency
      leader.applied(leader.applyTime(stamped, Instant.EPOCH));
    }
    // 40 commands of 5 ms each: had each apply re-anchored at its stamp, the clock would trail by ~200 ms
    assertThat(Duration.between(leader.instant(), Instant.now()).abs()).isLessThan(Duration.ofMillis(100));
  }

  @Test
  void applyTimesAreAFunctionOfTheLogAndNeverGoBack() {
    LogClock a = new LogClock();
    LogClock b = new LogClock();
    Instant t1 = Instant.parse("2026-11-30T12:00:01Z");
    Instant t0 = Instant.parse("2026-11-30T12:00:00Z");
    for (LogClock c : new LogClock[] {a, b}) {
      c.applied(c.applyTime(t1, Instant.EPOCH));
    }
    // a command stamped earlier (a new leader whose estimate trailed) is applied at the last time
    assertThat(a.applyTime(t0, Instant.EPOCH)).isEqualTo(t1).isEqualTo(b.applyTime(t0, Instant.EPOCH));
    // an unstamped (old) command takes Atomix's entry time, still never before the last
    assertThat(a.applyTime(null, t0)).isEqualTo(t1);
  }

  @Test
  void aFollowersEstimateMovesUpToAppliedTimesAndThenRunsOn() throws Exception {
    LogClock follower = new LogClock();
    Instant leaderTime = Instant.now().plusSeconds(3600); // whatever the leader's log time is
    follower.applied(leaderTime);
    Thread.sleep(20);
    Duration ahead = Duration.between(leaderTime, follower.instant());
    assertThat(ahead).isGreaterThanOrEqualTo(Duration.ofMillis(20)).isLessThan(Duration.ofSeconds(2));
    assertThat(follower.lastApplied()).isEqualTo(leaderTime);
  }

  @Test
  void aCommandWithoutATimeOfItsOwnIsAppliedAtTheLastTimeAndMovesNothing() throws Exception {
    LogClock c = new LogClock();
    Instant wall = Instant.now();
    // the log's first command: the leader's wall clock when it appended it
    assertThat(c.applyTime(LogClock.UNSTAMPED, wall)).isEqualTo(wall);
    c.applied(wall, false, wall);
    c.caughtUp();
    Instant t = Instant.now().minusSeconds(30); // a log whose time trails the wall clock
    c.applied(c.applyTime(t, wall), true, wall);
    Instant estimate = c.instant();
    // a registration sent by a member that is not the leader, appended now: applied at the last time
    Instant applied = c.applyTime(LogClock.UNSTAMPED, Instant.now().plusSeconds(60));
    assertThat(applied).isEqualTo(c.lastApplied());
    c.applied(applied, false, Instant.now().plusSeconds(60));
    assertThat(Duration.between(estimate, c.instant())).isLessThan(Duration.ofSeconds(1));
  }

  @Test
  void aRestartedMemberCountsTheTimeSinceTheLeaderAppendedTheLastEntryItReplays() {
    LogClock c = new LogClock();
    Instant now = Instant.now();
    // the log: the first entry appended 100 s ago at log time T; the last appended 50 s ago, when
    // the log's time had lost 40 s (it trailed the wall clock)
    Instant t = now.minusSeconds(100);
    c.applied(c.applyTime(t, now.minusSeconds(100)), true, now.minusSeconds(100));
    Instant last = t.plusSeconds(10);
    c.applied(c.applyTime(last, now.minusSeconds(50)), true, now.minusSeconds(50));
    // resumes from the last entry plus the 50 s since it was appended, not from the first
    assertThat(Duration.between(last.plusSeconds(50), c.instant()).abs()).isLessThan(Duration.ofSeconds(2));
    assertThat(c.lastStampedWall()).isEqualTo(now.minusSeconds(50));
  }

  @Test
  void onceCaughtUpALateEntryMovesTheEstimateOnlyToItsOwnTime() {
    LogClock c = new LogClock();
    Instant now = Instant.now();
    c.applied(c.applyTime(now, now), true, now);
    c.caughtUp();
    Instant estimate = c.instant();
    // an entry appended 30 s ago (this member was cut off) changes nothing: its time is older
    c.applied(c.applyTime(now.minusSeconds(30), now.minusSeconds(30)), true, now.minusSeconds(30));
    assertThat(Duration.between(estimate, c.instant())).isLessThan(Duration.ofSeconds(1));
  }

  @Test
  void anUnstampedCommandStaysUnstampedThroughTheCodec() {
    byte[] bytes = org.etcdjvm.embedded.internal.store.WriteCodec.encodeCommand(LogClock.UNSTAMPED, java.util.List.of());
    assertThat(org.etcdjvm.embedded.internal.store.WriteCodec.decodeCommand(bytes).time()).isEqualTo(LogClock.UNSTAMPED);
  }
}
