package org.etcdjvm.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.etcdjvm.client.Mocks.base;
import static org.etcdjvm.client.Mocks.body;
import static org.etcdjvm.client.Mocks.client;
import static org.etcdjvm.client.Mocks.ok;
import static org.etcdjvm.client.Mocks.redirect;
import static org.etcdjvm.client.Mocks.take;

import java.net.ProtocolException;
import java.time.Duration;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.Test;

/** A follower answers writes with 307 to the leader; the client follows it itself. */
class RedirectTest {
  @StartStop final MockWebServer follower = new MockWebServer();
  @StartStop final MockWebServer leader = new MockWebServer();

  @Test void redirectKeepsPostMethodAndBody() throws Exception {
    follower.enqueue(redirect(base(leader) + "/v1/keys/message"));
    leader.enqueue(ok(Mocks.set("/message", "Hello", 3)));
    try (EtcdClient etcd = client(follower).build()) {
      EtcdResponse r = etcd.set("/message", "Hello").ttl(Duration.ofSeconds(5)).send();

      assertThat(r.index()).isEqualTo(3);
      RecordedRequest first = take(follower);
      RecordedRequest second = take(leader);
      assertThat(second.getMethod()).isEqualTo("POST");
      assertThat(second.getUrl().encodedPath()).isEqualTo("/v1/keys/message");
      assertThat(body(second)).isEqualTo("value=Hello&ttl=5").isEqualTo(body(first));
      assertThat(second.getHeaders().get("Content-Type")).startsWith("application/x-www-form-urlencoded");
    }
  }

  @Test void redirectKeepsDeleteMethod() throws Exception {
    follower.enqueue(redirect(base(leader) + "/v1/keys/message"));
    leader.enqueue(ok(Mocks.delete("/message", "Hello", 4)));
    try (EtcdClient etcd = client(follower).build()) {
      etcd.delete("/message").send();
      take(follower);
      assertThat(take(leader).getMethod()).isEqualTo("DELETE");
    }
  }

  @Test void redirectRemembersLeaderForNextWrites() throws Exception {
    follower.enqueue(redirect(base(leader) + "/v1/keys/a"));
    leader.enqueue(ok(Mocks.set("/a", "1", 3)));
    leader.enqueue(ok(Mocks.set("/b", "2", 4)));
    try (EtcdClient etcd = client(follower).build()) {
      etcd.set("/a", "1").send();
      etcd.set("/b", "2").send();

      assertThat(follower.getRequestCount()).isEqualTo(1);
      assertThat(leader.getRequestCount()).isEqualTo(2);
      assertThat(etcd.writeEndpoint()).isEqualTo(base(leader) + "/");
    }
  }

  @Test void redirectLoopIsClearError() {
    follower.enqueue(redirect(base(leader) + "/v1/keys/k"));
    leader.enqueue(redirect(base(follower) + "/v1/keys/k"));
    try (EtcdClient etcd = client(follower).build()) {
      assertThatThrownBy(() -> etcd.set("/k", "v").send())
          .isInstanceOf(ProtocolException.class)
          .hasMessageContaining("Redirect loop")
          .hasMessageContaining("was not applied");
      assertThat(follower.getRequestCount()).isEqualTo(1);
      assertThat(leader.getRequestCount()).isEqualTo(1);
    }
  }

  @Test void tooManyRedirectsIsClearError() {
    for (int i = 1; i <= 4; i++) follower.enqueue(redirect("/v1/keys/k" + i));
    try (EtcdClient etcd = client(follower).build()) {
      assertThatThrownBy(() -> etcd.set("/k", "v").send())
          .isInstanceOf(ProtocolException.class)
          .hasMessageContaining("Too many redirects");
      assertThat(follower.getRequestCount()).isEqualTo(4);
    }
  }

  @Test void redirectWithoutLocationIsClearError() {
    follower.enqueue(new MockResponse.Builder().code(307).build());
    try (EtcdClient etcd = client(follower).build()) {
      assertThatThrownBy(() -> etcd.set("/k", "v").send())
          .isInstanceOf(ProtocolException.class)
          .hasMessageContaining("without a Location header");
    }
  }

  @Test void asyncWriteFollowsRedirect() throws Exception {
    follower.enqueue(redirect(base(leader) + "/v1/keys/message"));
    leader.enqueue(ok(Mocks.set("/message", "Hello", 3)));
    try (EtcdClient etcd = client(follower).build()) {
      EtcdResponse r = etcd.set("/message", "Hello").sendAsync().get();
      assertThat(r.index()).isEqualTo(3);
      take(follower);
      assertThat(body(take(leader))).isEqualTo("value=Hello");
    }
  }
}
