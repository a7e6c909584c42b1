package org.etcdjvm.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.etcdjvm.client.Mocks.base;
import static org.etcdjvm.client.Mocks.client;
import static org.etcdjvm.client.Mocks.ok;
import static org.etcdjvm.client.Mocks.redirect;
import static org.etcdjvm.client.Mocks.take;

import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.Test;

/**
 * A client reads its own writes: a read answered by a replica that has not applied the client's
 * last acknowledged write (by its {@code X-Etcd-Index}) is asked again of the leader.
 */
class ReadYourWritesTest {
  @StartStop final MockWebServer follower = new MockWebServer();
  @StartStop final MockWebServer leader = new MockWebServer();

  private static MockResponse at(long index, String json) {
    return new MockResponse.Builder().code(200).setHeader("X-Etcd-Index", Long.toString(index)).body(json).build();
  }

  /** A write through the follower, redirected to the leader, acknowledged at index 10. */
  private void writeAt10(EtcdClient etcd) throws Exception {
    follower.enqueue(redirect(base(leader) + "/v1/keys/svc/b"));
    leader.enqueue(ok(Mocks.set("/svc/b", "2", 10)));
    etcd.set("/svc/b", "2").send();
    take(follower);
    take(leader);
  }

  @Test void aReplicaBehindTheLastWriteIsBypassedForTheLeader() throws Exception {
    try (EtcdClient etcd = client(follower, leader).build()) {
      writeAt10(etcd);
      follower.enqueue(at(9, "[" + Mocks.get("/svc/a", "1", 9) + "]"));
      leader.enqueue(at(10, "[" + Mocks.get("/svc/a", "1", 10) + "," + Mocks.get("/svc/b", "2", 10) + "]"));
      assertThat(etcd.list("/svc").send()).extracting(EtcdResponse::key).containsExactly("/svc/a", "/svc/b");
      assertThat(take(follower).getUrl().encodedPath()).isEqualTo("/v1/keys/svc");
      assertThat(take(leader).getUrl().encodedPath()).isEqualTo("/v1/keys/svc");
    }
  }

  @Test void aNotFoundFromABehindReplicaIsCheckedWithTheLeaderToo() throws Exception {
    try (EtcdClient etcd = client(follower, leader).build()) {
      writeAt10(etcd);
      follower.enqueue(new MockResponse.Builder().code(400).setHeader("X-Etcd-Index", "9")
          .body("{\"errorCode\":100,\"message\":\"Key Not Found\",\"cause\":\"get: /svc/b\"}\n").build());
      leader.enqueue(at(10, Mocks.get("/svc/b", "2", 10)));
      assertThat(etcd.get("/svc/b").send().value()).isEqualTo("2");
    }
  }

  @Test void aReplicaThatCaughtUpAnswersAndAReplyWithoutTheHeaderIsNotTrusted() throws Exception {
    try (EtcdClient etcd = client(follower, leader).build()) {
      writeAt10(etcd);
      follower.enqueue(at(12, Mocks.get("/svc/b", "2", 12)));
      assertThat(etcd.get("/svc/b").send().value()).isEqualTo("2");
      assertThat(leader.getRequestCount()).isEqualTo(1);
      follower.enqueue(ok(Mocks.get("/svc/b", "old", 3))); // a server that does not say its index
      leader.enqueue(at(12, Mocks.get("/svc/b", "2", 12)));
      assertThat(etcd.get("/svc/b").send().value()).isEqualTo("2");
    }
  }

  @Test void staleReadsSkipTheCheck() throws Exception {
    try (EtcdClient etcd = client(follower, leader).staleReads(true).build()) {
      writeAt10(etcd);
      follower.enqueue(at(9, Mocks.get("/svc/b", "1", 9)));
      assertThat(etcd.get("/svc/b").send().value()).isEqualTo("1");
      assertThat(leader.getRequestCount()).isEqualTo(1);
    }
  }
}
