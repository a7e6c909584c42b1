package com.example.inventory;

import java.io.IOException;
import org.etcdjvm.client.EtcdClient;
import org.etcdjvm.client.EtcdException;
import org.etcdjvm.client.EtcdResponse;

/** Stock counts kept in etcd under /inventory. */
public final class Inventory {
  private final EtcdClient etcd;

  public Inventory(EtcdClient etcd) {
    this.etcd = etcd;
  }

  public void stock(String item, int count) throws IOException, EtcdException {
    etcd.set("/inventory/" + item, Integer.toString(count)).send();
  }

  public int count(String item) throws IOException, EtcdException {
    EtcdResponse r = etcd.getOrNull("/inventory/" + item);
    return r == null ? 0 : Integer.parseInt(r.value());
  }
}
