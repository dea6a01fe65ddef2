-- Reference 000 §6.2.2's five check functions, exactly as printed there. Two of them are
-- broken on PostgreSQL 15; tests/checks/test_reference_functions.py shows how, and fixes them.

-- Create alert check function
CREATE OR REPLACE FUNCTION check_payment_processing() RETURNS TABLE(
  is_alert BOOLEAN,
  severity TEXT,
  message TEXT,
  affected_orders INTEGER
) AS $$
DECLARE
  recent_orders INTEGER;
  current_hour INTEGER;
  is_business_hours BOOLEAN;
BEGIN
  -- Get current hour (0-23)
  current_hour := EXTRACT(HOUR FROM NOW() AT TIME ZONE 'America/New_York');
  
  -- Business hours: 6am-11pm EST
  is_business_hours := current_hour >= 6 AND current_hour < 23;
  
  -- Count orders in last 10 minutes
  SELECT COUNT(*) INTO recent_orders
  FROM orders
  WHERE created_at > NOW() - INTERVAL '10 minutes';
  
  -- Alert if no orders during business hours
  IF recent_orders = 0 AND is_business_hours THEN
    RETURN QUERY SELECT
      true AS is_alert,
      'CRITICAL' AS severity,
      'No orders processed in last 10 minutes during business hours' AS message,
      0 AS affected_orders;
  ELSE
    RETURN QUERY SELECT
      false AS is_alert,
      'INFO' AS severity,
      format('%s orders in last 10 minutes', recent_orders) AS message,
      recent_orders AS affected_orders;
  END IF;
END;
$$ LANGUAGE plpgsql;

-- Run this every 5 minutes via Make.com or pg_cron

-- Check if error rate exceeds acceptable levels
CREATE OR REPLACE FUNCTION check_error_rate() RETURNS TABLE(
  is_alert BOOLEAN,
  severity TEXT,
  error_rate_percent NUMERIC,
  error_count INTEGER,
  total_events INTEGER
) AS $$
DECLARE
  errors INTEGER;
  total INTEGER;
  rate NUMERIC;
BEGIN
  SELECT
    COUNT(*) FILTER (WHERE level IN ('error', 'critical')),
    COUNT(*)
  INTO errors, total
  FROM system_logs
  WHERE timestamp > NOW() - INTERVAL '5 minutes';
  
  rate := ROUND((errors::NUMERIC / NULLIF(total, 0)) * 100, 2);
  
  IF rate >= 10 THEN
    RETURN QUERY SELECT
      true,
      'HIGH',
      rate,
      errors,
      total;
  ELSIF rate >= 5 THEN
    RETURN QUERY SELECT
      true,
      'WARNING',
      rate,
      errors,
      total;
  ELSE
    RETURN QUERY SELECT
      false,
      'INFO',
      rate,
      errors,
      total;
  END IF;
END;
$$ LANGUAGE plpgsql;

-- Alert if provider response times significantly exceed baseline
CREATE OR REPLACE FUNCTION check_provider_performance() RETURNS TABLE(
  provider_name TEXT,
  is_alert BOOLEAN,
  severity TEXT,
  current_p95_ms INTEGER,
  baseline_p95_ms INTEGER,
  degradation_percent NUMERIC
) AS $$
BEGIN
  RETURN QUERY
  WITH current_performance AS (
    SELECT
      f.provider_name,
      percentile_cont(0.95) WITHIN GROUP (ORDER BY response_time_ms) AS p95_ms
    FROM fulfillment_events f
    WHERE created_at > NOW() - INTERVAL '10 minutes'
      AND response_time_ms IS NOT NULL
    GROUP BY f.provider_name
  ),
  baseline_performance AS (
    SELECT
      f.provider_name,
      percentile_cont(0.95) WITHIN GROUP (ORDER BY response_time_ms) AS baseline_p95
    FROM fulfillment_events f
    WHERE created_at > NOW() - INTERVAL '7 days'
      AND created_at < NOW() - INTERVAL '1 hour'
      AND response_time_ms IS NOT NULL
    GROUP BY f.provider_name
  )
  SELECT
    cp.provider_name,
    (cp.p95_ms > bp.baseline_p95 * 2) AS is_alert,
    CASE
      WHEN cp.p95_ms > bp.baseline_p95 * 3 THEN 'HIGH'
      WHEN cp.p95_ms > bp.baseline_p95 * 2 THEN 'WARNING'
      ELSE 'INFO'
    END AS severity,
    cp.p95_ms::INTEGER,
    bp.baseline_p95::INTEGER,
    ROUND(((cp.p95_ms / NULLIF(bp.baseline_p95, 0)) - 1) * 100, 1) AS degradation_percent
  FROM current_performance cp
  JOIN baseline_performance bp ON cp.provider_name = bp.provider_name
  WHERE cp.p95_ms > bp.baseline_p95 * 1.5;
END;
$$ LANGUAGE plpgsql;

-- Alert if manual queue exceeds capacity or has urgent items aging
CREATE OR REPLACE FUNCTION check_manual_queue() RETURNS TABLE(
  is_alert BOOLEAN,
  severity TEXT,
  message TEXT,
  queue_depth INTEGER,
  urgent_count INTEGER,
  oldest_urgent_age_minutes INTEGER
) AS $$
DECLARE
  pending_count INTEGER;
  urgent_pending INTEGER;
  oldest_age INTEGER;
BEGIN
  SELECT
    COUNT(*),
    COUNT(*) FILTER (WHERE priority IN ('high', 'urgent')),
    COALESCE(MAX(EXTRACT(EPOCH FROM (NOW() - created_at)) / 60)::INTEGER, 0) FILTER (WHERE priority = 'urgent')
  INTO pending_count, urgent_pending, oldest_age
  FROM manual_queue
  WHERE status = 'pending';
  
  IF urgent_pending > 0 AND oldest_age > 120 THEN
    RETURN QUERY SELECT
      true,
      'CRITICAL',
      format('%s urgent items in queue, oldest is %s minutes old', urgent_pending, oldest_age),
      pending_count,
      urgent_pending,
      oldest_age;
  ELSIF pending_count > 50 THEN
    RETURN QUERY SELECT
      true,
      'HIGH',
      format('Manual queue at %s items (capacity threshold)', pending_count),
      pending_count,
      urgent_pending,
      oldest_age;
  ELSIF urgent_pending > 0 AND oldest_age > 60 THEN
    RETURN QUERY SELECT
      true,
      'WARNING',
      format('%s urgent items, oldest is %s minutes old', urgent_pending, oldest_age),
      pending_count,
      urgent_pending,
      oldest_age;
  ELSE
    RETURN QUERY SELECT
      false,
      'INFO',
      format('%s items in queue', pending_count),
      pending_count,
      urgent_pending,
      oldest_age;
  END IF;
END;
$$ LANGUAGE plpgsql;

-- Alert if daily costs significantly exceed baseline
CREATE OR REPLACE FUNCTION check_cost_anomaly() RETURNS TABLE(
  is_alert BOOLEAN,
  severity TEXT,
  today_cost_dollars NUMERIC,
  baseline_cost_dollars NUMERIC,
  variance_percent NUMERIC
) AS $$
DECLARE
  today_cost INTEGER;
  baseline_avg INTEGER;
  variance NUMERIC;
BEGIN
  -- Today's costs so far
  SELECT COALESCE(SUM(cost_cents + shipping_cost_cents), 0)
  INTO today_cost
  FROM fulfillment_events
  WHERE DATE(created_at) = CURRENT_DATE
    AND status = 'submitted';
  
  -- Average daily cost over last 30 days
  SELECT COALESCE(AVG(daily_cost), 0)::INTEGER
  INTO baseline_avg
  FROM (
    SELECT SUM(cost_cents + shipping_cost_cents) AS daily_cost
    FROM fulfillment_events
    WHERE created_at >= CURRENT_DATE - INTERVAL '30 days'
      AND created_at < CURRENT_DATE
      AND status = 'submitted'
    GROUP BY DATE(created_at)
  ) AS daily_costs;
  
  variance := ROUND(((today_cost::NUMERIC / NULLIF(baseline_avg, 0)) - 1) * 100, 1);
  
  IF variance > 50 THEN
    RETURN QUERY SELECT
      true,
      'HIGH',
      ROUND(today_cost / 100.0, 2),
      ROUND(baseline_avg / 100.0, 2),
      variance;
  ELSIF variance > 25 THEN
    RETURN QUERY SELECT
      true,
      'WARNING',
      ROUND(today_cost / 100.0, 2),
      ROUND(baseline_avg / 100.0, 2),
      variance;
  ELSE
    RETURN QUERY SELECT
      false,
      'INFO',
      ROUND(today_cost / 100.0, 2),
      ROUND(baseline_avg / 100.0, 2),
      variance;
  END IF;
END;
$$ LANGUAGE plpgsql;
