package org.etcdjvm.faults;

import static org.assertj.core.api.Assertions.assertThat;

import org.etcdjvm.faults.check.Op;
import org.junit.jupiter.api.Test;

class WorkloadClassificationTest {
  private static Http.Reply answer(int status, String body) {
    return new Http.Reply(status, body, null, Http.Failure.NONE, null, "http://x/v1/keys/k");
  }

  @Test
  void onlyWhatCertainlyDidNotHappenIsAFailure() {
    assertThat(Workload.classify(answer(200, "{\"action\":\"SET\",\"index\":3}"))).isEqualTo(Op.Outcome.OK);
    assertThat(Workload.classify(new Http.Reply(0, null, null, Http.Failure.NOT_SENT, "connect", "u")))
        .isEqualTo(Op.Outcome.FAIL);
    assertThat(Workload.classify(new Http.Reply(0, null, null, Http.Failure.NO_ANSWER, "timeout", "u")))
        .isEqualTo(Op.Outcome.UNKNOWN);
    assertThat(Workload.classify(answer(307, ""))).isEqualTo(Op.Outcome.FAIL);
    assertThat(Workload.classify(answer(500, "{\"errorCode\":300,\"message\":\"Raft Internal Error\",\"cause\":\"no leader\"}\n")))
        .isEqualTo(Op.Outcome.FAIL);
    assertThat(Workload.classify(answer(500, "{\"errorCode\":300,\"message\":\"Raft Internal Error\","
        + "\"cause\":\"timed out waiting for commit (outcome unknown)\"}\n"))).isEqualTo(Op.Outcome.UNKNOWN);
    assertThat(Workload.classify(answer(400, "{\"errorCode\":101,\"message\":\"m\",\"cause\":\"TestAndSet: a!=b\"}\n")))
        .isEqualTo(Op.Outcome.FAIL);
    assertThat(Workload.classify(answer(502, "Bad Gateway"))).isEqualTo(Op.Outcome.UNKNOWN);
  }

  @Test
  void aFailedCompareNamesTheCurrentValue() {
    assertThat(Workload.currentFrom("TestAndSet: v1.3!=~probe~", "~probe~")).isEqualTo("v1.3");
    assertThat(Workload.currentFrom("TestAndSet: v1.3!=", "")).isEqualTo("v1.3");
    assertThat(Workload.currentFrom("something else", "x")).isNull();
  }

  @Test
  void expirationsAreComparedAsInstants() {
    assertThat(Workload.normalizeExpiration("2013-07-11T20:31:12.156146039-07:00"))
        .isEqualTo("2013-07-12T03:31:12.156146039Z");
  }

  @Test
  void schedulesReadAndWriteTheirSpec() {
    Schedule s = Schedule.parse("42:5:150");
    assertThat(s.seed()).isEqualTo(42);
    assertThat(s.nodes()).isEqualTo(5);
    assertThat(s.toString()).isEqualTo("42:5:150");
  }
}
