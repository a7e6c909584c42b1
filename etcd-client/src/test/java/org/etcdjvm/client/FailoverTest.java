package org.etcdjvm.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.etcdjvm.client.Mocks.base;
import static org.etcdjvm.client.Mocks.client;
import static org.etcdjvm.client.Mocks.closedPort;
import static org.etcdjvm.client.Mocks.error;
import static org.etcdjvm.client.Mocks.ok;
import static org.etcdjvm.client.Mocks.take;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.Test;

/** Moving between endpoints, and never re-sending a write that may have been applied. */
class FailoverTest {
  @StartStop final MockWebServer a = new MockWebServer();
  @StartStop final MockWebServer b = new MockWebServer();

  @Test void getFailsOverOnConnectionRefused() throws Exception {
    b.enqueue(ok(Mocks.get("/k", "v", 7)));
    b.enqueue(ok(Mocks.get("/k", "v", 7)));
    try (EtcdClient etcd = EtcdClient.builder().endpoints(closedPort(), base(b)).autoSync(false).build()) {
      assertThat(etcd.get("/k").send().value()).isEqualTo("v");
      assertThat(etcd.get("/k").send().value()).isEqualTo("v"); // straight to b now
      assertThat(b.getRequestCount()).isEqualTo(2);
    }
  }

  @Test void getFailsOverOn5xx() throws Exception {
    a.enqueue(new MockResponse.Builder().code(500).body("raft: command timeout").build());
    b.enqueue(ok(Mocks.get("/k", "v", 7)));
    try (EtcdClient etcd = client(a, b).build()) {
      assertThat(etcd.get("/k").send().value()).isEqualTo("v");
      assertThat(a.getRequestCount()).isEqualTo(1);
    }
  }

  @Test void getFailsOverWhenConnectionDropsMidRequest() throws Exception {
    a.enqueue(new MockResponse.Builder().onResponseStart(SocketEffect.ShutdownConnection.INSTANCE).build());
    b.enqueue(ok(Mocks.get("/k", "v", 7)));
    try (EtcdClient etcd = client(a, b).build()) {
      assertThat(etcd.get("/k").sendAsync().get(5, TimeUnit.SECONDS).value()).isEqualTo("v");
    }
  }

  @Test void getFailsWhenEveryEndpointFails() {
    a.enqueue(new MockResponse.Builder().code(502).body("bad gateway").build());
    b.enqueue(error(500, 300, "Raft Internal Error", null));
    try (EtcdClient etcd = client(a, b).build()) {
      assertThatThrownBy(() -> etcd.get("/k").send())
          .isInstanceOf(EtcdException.class)
          .satisfies(e -> assertThat(((EtcdException) e).errorCode()).isEqualTo(300));
      assertThat(a.getRequestCount()).isEqualTo(1);
      assertThat(b.getRequestCount()).isEqualTo(1);
    }
  }

  @Test void allEndpointsUnreachableIsIOExceptionWithEachFailure() throws Exception {
    try (EtcdClient etcd = EtcdClient.builder().endpoints(closedPort(), closedPort()).autoSync(false).build()) {
      assertThatThrownBy(() -> etcd.get("/k").send())
          .isInstanceOf(IOException.class)
          .satisfies(e -> assertThat(e.getSuppressed()).hasSize(1));
    }
  }

  @Test void writeFailsOverWhenConnectionRefused() throws Exception {
    b.enqueue(ok(Mocks.set("/k", "v", 3)));
    try (EtcdClient etcd = EtcdClient.builder().endpoints(closedPort(), base(b)).autoSync(false).build()) {
      assertThat(etcd.set("/k", "v").send().index()).isEqualTo(3);
      assertThat(take(b).getMethod()).isEqualTo("POST");
    }
  }

  @Test void writeWithUnknownOutcomeIsNotResent() throws Exception {
    a.enqueue(new MockResponse.Builder().onResponseStart(SocketEffect.ShutdownConnection.INSTANCE).build());
    b.enqueue(ok(Mocks.set("/k", "v", 3)));
    try (EtcdClient etcd = client(a, b).build()) {
      assertThatThrownBy(() -> etcd.set("/k", "v").send())
          .isInstanceOf(WriteOutcomeUnknownException.class)
          .hasMessageContaining("may or may not have been applied")
          .satisfies(e -> assertThat(((WriteOutcomeUnknownException) e).method()).isEqualTo("POST"));
      assertThat(take(a).getMethod()).isEqualTo("POST");
      assertThat(a.getRequestCount()).isEqualTo(1);
      assertThat(b.getRequestCount()).isZero();
    }
  }

  @Test void asyncWriteWithUnknownOutcomeIsNotResent() throws Exception {
    a.enqueue(new MockResponse.Builder().onResponseStart(SocketEffect.ShutdownConnection.INSTANCE).build());
    try (EtcdClient etcd = client(a, b).build()) {
      assertThatThrownBy(() -> etcd.delete("/k").sendAsync().get(5, TimeUnit.SECONDS))
          .hasCauseInstanceOf(WriteOutcomeUnknownException.class);
      assertThat(a.getRequestCount()).isEqualTo(1);
      assertThat(b.getRequestCount()).isZero();
    }
  }

  @Test void writeAnswered5xxIsNotResent() {
    a.enqueue(new MockResponse.Builder().code(500).body("raft: command timeout").build());
    try (EtcdClient etcd = client(a, b).build()) {
      assertThatThrownBy(() -> etcd.set("/k", "v").send())
          .isInstanceOf(WriteOutcomeUnknownException.class)
          .hasMessageContaining("HTTP 500: raft: command timeout");
      assertThat(b.getRequestCount()).isZero();
    }
  }

  @Test void writeWithoutLeaderIsTypedErrorAndNotResent() {
    a.enqueue(error(500, 300, "Raft Internal Error", "no leader"));
    try (EtcdClient etcd = client(a, b).build()) {
      assertThatThrownBy(() -> etcd.set("/k", "v").send())
          .isInstanceOf(EtcdException.class)
          .satisfies(e -> assertThat(((EtcdException) e).errorCode()).isEqualTo(EtcdException.RAFT_INTERNAL));
      assertThat(b.getRequestCount()).isZero();
    }
  }

  @Test void writeCommitTimeoutIsOutcomeUnknownAndNotResent() {
    a.enqueue(error(500, 300, "Raft Internal Error", "timed out waiting for commit (outcome unknown)"));
    try (EtcdClient etcd = client(a, b).build()) {
      assertThatThrownBy(() -> etcd.set("/k", "v").send())
          .isInstanceOf(WriteOutcomeUnknownException.class)
          .hasCauseInstanceOf(EtcdException.class)
          .hasMessageContaining("timed out waiting for commit");
      assertThat(b.getRequestCount()).isZero();
    }
  }

  @Test void machinesRefreshLearnsMembersAndLeader() throws Exception {
    a.enqueue(ok(base(b) + ", " + base(a)));
    b.enqueue(ok(Mocks.set("/k", "v", 3)));
    try (EtcdClient etcd = client(a).build()) {
      assertThat(etcd.machines().send()).containsExactly(base(b), base(a));
      assertThat(take(a).getUrl().encodedPath()).isEqualTo("/v1/machines");
      assertThat(etcd.endpoints()).containsExactly(base(b) + "/", base(a) + "/");

      etcd.set("/k", "v").send(); // straight to the leader, no redirect needed
      assertThat(take(b).getMethod()).isEqualTo("POST");
      assertThat(a.getRequestCount()).isEqualTo(1);
    }
  }

  @Test void failoverRefreshesMemberListInBackground() throws Exception {
    a.setDispatcher(new Dispatcher() {
      @Override public MockResponse dispatch(RecordedRequest request) {
        if (request.getUrl().encodedPath().equals("/v1/machines")) return ok(base(a) + ", " + base(b));
        return ok(Mocks.get("/k", "v", 7));
      }
    });
    try (EtcdClient etcd = EtcdClient.builder().endpoints(closedPort(), base(a)).build()) {
      assertThat(etcd.get("/k").send().value()).isEqualTo("v");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (!etcd.endpoints().contains(base(b) + "/") && System.nanoTime() < deadline) Thread.sleep(10);
      assertThat(etcd.endpoints()).startsWith(base(a) + "/", base(b) + "/");
      assertThat(etcd.writeEndpoint()).isEqualTo(base(a) + "/");
    }
  }

  @Test void readTimeoutFailsOverThenFails() {
    a.enqueue(new MockResponse.Builder().body(Mocks.get("/k", "v", 1)).headersDelay(2, TimeUnit.SECONDS).build());
    try (EtcdClient etcd = client(a).readTimeout(Duration.ofMillis(200)).build()) {
      long start = System.nanoTime();
      assertThatThrownBy(() -> etcd.get("/k").send()).isInstanceOf(java.net.SocketTimeoutException.class);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
    }
  }

  @Test void requestTimeoutBoundsTheWholeRequest() {
    a.enqueue(new MockResponse.Builder().body(Mocks.get("/k", "v", 1)).headersDelay(2, TimeUnit.SECONDS).build());
    try (EtcdClient etcd = client(a).build()) {
      long start = System.nanoTime();
      assertThatThrownBy(() -> etcd.get("/k").timeout(Duration.ofMillis(200)).send())
          .isInstanceOf(java.io.InterruptedIOException.class);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
    }
  }
}
