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
}
