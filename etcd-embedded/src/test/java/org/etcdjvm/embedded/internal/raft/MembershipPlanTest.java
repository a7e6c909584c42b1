package org.etcdjvm.embedded.internal.raft;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.AbstractCollection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.etcdjvm.embedded.internal.raft.MembershipPlan.Bootstrap;
import org.etcdjvm.embedded.internal.raft.MembershipPlan.Decision;
import org.etcdjvm.embedded.internal.raft.MembershipPlan.Join;
import org.etcdjvm.embedded.internal.raft.MembershipPlan.Local;
import org.etcdjvm.embedded.internal.raft.MembershipPlan.PeerStatus;
import org.etcdjvm.embedded.internal.raft.MembershipPlan.Refuse;
import org.etcdjvm.embedded.internal.raft.MembershipPlan.Restart;
import org.etcdjvm.embedded.internal.raft.MembershipPlan.Wait;
import org.junit.jupiter.api.Test;

/** How a starting member decides between restarting, forming, joining and refusing. */
class MembershipPlanTest {
  private static final String A = "127.0.0.1:7001";
  private static final String B = "127.0.0.1:7002";
  private static final String C = "127.0.0.1:7003";
  private static final String D = "127.0.0.1:7004";

  private static Local fresh(String self, String name, String... peers) {
    return new Local(self, name, List.of(peers), List.of(), -1, null);
  }

  private static PeerStatus newMember(String peer, String name, String... intended) {
    return new PeerStatus(peer, name, false, null, List.of(), -1, null, 9, Map.of(), List.of(intended));
  }

  private static PeerStatus member(String peer, String name, String clusterId, long configIndex, List<String> members,
      Map<String, String> names) {
    return new PeerStatus(peer, name, true, clusterId, members, configIndex, peer, 9, names, List.of());
  }

  @Test
  void aMemberWithoutPeersFormsAClusterOfItsOwn() {
    Decision d = MembershipPlan.decide(fresh(A, "node1"), List.of());
    assertThat(d).isInstanceOfSatisfying(Bootstrap.class, b -> {
      assertThat(b.members()).containsExactly(A);
      assertThat(b.clusterId()).startsWith("r");
    });
  }

  @Test
  void theEtcd01SequenceJoinsTheRunningFirstNode() {
    PeerStatus node1 = member(A, "node1", "r1", 0, List.of(A), Map.of("node1", A));
    Decision d = MembershipPlan.decide(fresh(B, "node2", A), List.of(node1));
    assertThat(d).isEqualTo(new Join(List.of(A), "r1", A));
  }

  /**
   * Seen in CI: the answers are a live map that messaging threads update; a peer that formed the
   * cluster between the plan's two passes over them was read first as "new" and then as a member
   * with no start list, and the start was refused for "different lists".
   */
  @Test
  void aPeerThatFormsTheClusterWhileTheAnswersAreReadIsSeenOnce() {
    PeerStatus asNew = newMember(B, "n2", A, B, C);
    PeerStatus asMember = member(B, "n2", "s1", 0, List.of(A, B, C), Map.of());
    AtomicInteger passes = new AtomicInteger();
    java.util.Collection<PeerStatus> changing = new AbstractCollection<>() {
      @Override
      public Iterator<PeerStatus> iterator() {
        return List.of(passes.getAndIncrement() == 0 ? asNew : asMember).iterator();
      }

      @Override
      public int size() {
        return 1;
      }
    };
    Decision d = MembershipPlan.decide(fresh(C, "n3", A, B), changing);
    assertThat(d).isInstanceOfSatisfying(Bootstrap.class, b -> assertThat(b.members()).containsExactly(A, B, C));
  }

  @Test
  void aNewMemberWaitsUntilSomeoneAnswers() {
    assertThat(MembershipPlan.decide(fresh(B, "node2", A), List.of())).isInstanceOf(Wait.class);
  }

  @Test
  void aStaticListFormsOnceAMajorityAgrees() {
    Local b = fresh(B, "n2", A, C);
    assertThat(MembershipPlan.decide(b, List.of())).isInstanceOf(Wait.class);
    Decision d = MembershipPlan.decide(b, List.of(newMember(A, "n1", A, B, C)));
    assertThat(d).isInstanceOfSatisfying(Bootstrap.class, boot -> {
      assertThat(boot.members()).containsExactly(A, B, C);
      assertThat(boot.clusterId()).isEqualTo(MembershipPlan.staticClusterId(List.of(A, B, C)));
    });
  }

  @Test
  void aPeerWithAnotherListIsRefusedAtOnce() {
    // node1 was started alone with -C naming node2, node2 with -C naming node1 and node3: two lists.
    Decision d = MembershipPlan.decide(fresh(B, "n2", A, C), List.of(newMember(A, "n1", A, B)));
    assertThat(d).isInstanceOfSatisfying(Refuse.class, r -> assertThat(r.message())
        .contains("n1", A, "[" + A + ", " + B + "]", "[" + A + ", " + B + ", " + C + "]"));
  }

  @Test
  void aMemberListedInTheRunningConfigurationStartsWithThatConfiguration() {
    // a static member that comes late, or one whose data directory was wiped
    PeerStatus a = member(A, "n1", "s1", 12, List.of(A, B, C), Map.of());
    assertThat(MembershipPlan.decide(fresh(C, "n3", A, B), List.of(a))).isEqualTo(new Bootstrap(List.of(A, B, C), "s1"));
  }

  @Test
  void theNewestConfigurationIsTheOneJoined() {
    PeerStatus stale = member(A, "n1", "r1", 0, List.of(A), Map.of());
    PeerStatus newer = member(B, "n2", "r1", 7, List.of(A, B), Map.of());
    assertThat(MembershipPlan.decide(fresh(C, "n3", A, B), List.of(stale, newer)))
        .isEqualTo(new Join(List.of(A, B), "r1", B));
  }

  @Test
  void aFullClusterRefusesWithError103() {
    PeerStatus full = new PeerStatus(A, "n1", true, "r1", List.of(A, B), 3, A, 2, Map.of(), List.of());
    assertThat(MembershipPlan.decide(fresh(C, "n3", A), List.of(full)))
        .isInstanceOfSatisfying(Refuse.class, r -> assertThat(r.message()).startsWith("error 103").contains("2"));
  }

  @Test
  void aNameUsedByAnotherMemberIsRefused() {
    PeerStatus a = member(A, "n1", "r1", 3, List.of(A, B), Map.of("n1", A, "n2", B));
    assertThat(MembershipPlan.decide(fresh(C, "n2", A), List.of(a)))
        .isInstanceOfSatisfying(Refuse.class, r -> assertThat(r.message()).contains("n2", B));
  }

  @Test
  void theNameOfARemovedMemberCanBeReused() {
    // n2 at B was removed; its registration may linger until the leader drops it
    PeerStatus a = member(A, "n1", "r1", 5, List.of(A), Map.of("n1", A, "n2", B));
    assertThat(MembershipPlan.decide(fresh(C, "n2", A), List.of(a))).isInstanceOf(Join.class);
  }

  @Test
  void aRestartUsesTheDataDirectoryWhateverThePeersSay() {
    Local restarted = new Local(B, "n2", List.of(D), List.of(A, B, C), 4, "r1");
    assertThat(MembershipPlan.decide(restarted, List.of())).isEqualTo(new Restart("r1"));
    PeerStatus same = member(A, "n1", "r1", 4, List.of(A, B, C), Map.of());
    assertThat(MembershipPlan.decide(restarted, List.of(same))).isEqualTo(new Restart("r1"));
  }

  @Test
  void aRestartIntoAnotherClusterIsRefused() {
    Local restarted = new Local(B, "n2", List.of(A), List.of(A, B), 2, "r1");
    PeerStatus other = member(A, "x1", "r9", 0, List.of(A), Map.of());
    assertThat(MembershipPlan.decide(restarted, List.of(other)))
        .isInstanceOfSatisfying(Refuse.class, r -> assertThat(r.message()).contains("r1", "r9", A));
  }

  @Test
  void aRemovedMemberIsRefusedWhenItComesBack() {
    Local restarted = new Local(C, "n3", List.of(), List.of(A, B, C), 2, "r1");
    PeerStatus a = member(A, "n1", "r1", 9, List.of(A, B), Map.of());
    assertThat(MembershipPlan.decide(restarted, List.of(a)))
        .isInstanceOfSatisfying(Refuse.class, r -> assertThat(r.message()).contains("removed", "delete the data directory"));
  }

  @Test
  void aMemberWhoseOwnConfigurationNoLongerListsItWasRemoved() {
    Local restarted = new Local(C, "n3", List.of(A), List.of(A, B), 7, "r1");
    assertThat(MembershipPlan.decide(restarted, List.of()))
        .isInstanceOfSatisfying(Refuse.class, r -> assertThat(r.message()).contains("removed", "no longer lists it"));
  }

  @Test
  void anOlderConfigurationWithoutThisMemberIsNotARemoval() {
    // a peer that has not caught up yet (it still has the configuration before this member joined)
    Local restarted = new Local(C, "n3", List.of(), List.of(A, B, C), 6, "r1");
    PeerStatus lagging = member(A, "n1", "r1", 4, List.of(A, B), Map.of());
    assertThat(MembershipPlan.decide(restarted, List.of(lagging))).isEqualTo(new Restart("r1"));
  }
}
