// Failover
