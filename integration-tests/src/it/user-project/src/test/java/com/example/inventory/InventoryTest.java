package com.example.inventory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.etcdjvm.embedded.EtcdNode;
import org.etcdjvm.test.EtcdExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class InventoryTest {
  @RegisterExtension static EtcdExtension etcd = EtcdExtension.singleNode();

  @Test void countsWhatWasStocked() throws Exception {
    Inventory inventory = new Inventory(etcd.client());
    assertEquals(0, inventory.count("apples"));
    inventory.stock("apples", 3);
    assertEquals(3, inventory.count("apples"));
  }

  @Test void theNodeIsARealEtcdNode() {
    EtcdNode node = etcd.node(0);
    assertTrue(node.isLeader());
    assertEquals(etcd.clientUrl(), node.clientUrl());
  }
}
