package org.etcdjvm.embedded.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.etcdjvm.embedded.internal.raft.MemberInfo;
import org.junit.jupiter.api.Test;

class ClusterRoutesTest {
  private static final MemberInfo N1 = new MemberInfo("n1", "http://127.0.0.1:7001", "http://127.0.0.1:4001");
  private static final MemberInfo N2 = new MemberInfo("n2", "http://127.0.0.1:7002", "http://127.0.0.1:4002");
  private static final MemberInfo N3 = new MemberInfo("n3", "http://127.0.0.1:7003", "http://127.0.0.1:4003");

  @Test
  void machinesListsTheLeaderFirstThenSelfThenTheOthersByName() {
    assertThat(ClusterRoutes.machines(Optional.of(N3), N2, List.of(N3, N1, N2)))
        .isEqualTo("http://127.0.0.1:4003, http://127.0.0.1:4002, http://127.0.0.1:4001");
  }

  @Test
  void machinesOnTheLeaderStartsWithItself() {
    assertThat(ClusterRoutes.machines(Optional.of(N1), N1, List.of(N2, N1, N3)))
        .isEqualTo("http://127.0.0.1:4001, http://127.0.0.1:4002, http://127.0.0.1:4003");
  }

  @Test
  void machinesWithoutLeaderStartsWithSelfAndSkipsUnknownUrls() {
    MemberInfo noUrl = new MemberInfo("n4", "http://127.0.0.1:7004", null);
    assertThat(ClusterRoutes.machines(Optional.empty(), N2, List.of(noUrl, N1, N2)))
        .isEqualTo("http://127.0.0.1:4002, http://127.0.0.1:4001");
  }

  @Test
  void durationsReadLikeGos() {
    assertThat(ClusterRoutes.goDuration(Duration.ZERO)).isEqualTo("0s");
    assertThat(ClusterRoutes.goDuration(Duration.ofNanos(999))).isEqualTo("999ns");
    assertThat(ClusterRoutes.goDuration(Duration.ofNanos(1_500))).isEqualTo("1.5\u00b5s");
    assertThat(ClusterRoutes.goDuration(Duration.ofNanos(2_500_000))).isEqualTo("2.5ms");
    assertThat(ClusterRoutes.goDuration(Duration.ofNanos(1_000_001))).isEqualTo("1.000001ms");
    assertThat(ClusterRoutes.goDuration(Duration.ofMillis(1500))).isEqualTo("1.5s");
    assertThat(ClusterRoutes.goDuration(Duration.ofSeconds(61))).isEqualTo("1m1s");
    assertThat(ClusterRoutes.goDuration(Duration.ofHours(1))).isEqualTo("1h0m0s");
    assertThat(ClusterRoutes.goDuration(Duration.ofHours(72).plusMinutes(3).plusMillis(500))).isEqualTo("72h3m0.5s");
    assertThat(ClusterRoutes.goDuration(Duration.ofSeconds(20, 364_201_674))).isEqualTo("20.364201674s");
  }

  @Test
  void aNegativeDurationShowsAsZero() {
    assertThat(ClusterRoutes.goDuration(Duration.ofSeconds(-3))).isEqualTo("0s");
  }
}
