// A banner that says which engine the console cannot reach, without needing the websocket.
//
// Wrapped by console/ui/health_banner.py. In cluster mode page events go through Redis: when
// it (or PostgreSQL) is gone, an event would wait with no answer. This component asks the
// backend's own health check over plain HTTP every 15 s (every 5 s while something is down)
// and shows what it names, so a page never just hangs silently.
import React, { useEffect, useState } from "react";
import env from "$/env.json";
import { getBackendURL } from "$/utils/state";

const HEALTHY_MS = 15000;
const DOWN_MS = 5000;

function healthUrl() {
  const url = getBackendURL(env.PING);
  url.pathname = "/api/v1/health";
  return url.toString();
}

export function HealthBanner() {
  const [down, setDown] = useState([]);
  useEffect(() => {
    let stopped = false;
    let timer = null;
    async function check() {
      let names = [];
      try {
        const answer = await fetch(healthUrl(), { cache: "no-store" });
        if (!answer.ok) {
          const body = await answer.json().catch(() => ({}));
          names = body.unavailable && body.unavailable.length ? body.unavailable : ["控制台服务"];
        }
      } catch (error) {
        names = ["控制台服务"];
      }
      if (stopped) return;
      setDown(names);
      timer = setTimeout(check, names.length ? DOWN_MS : HEALTHY_MS);
    }
    check();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);
  if (!down.length) return null;
  return (
    <div
      role="alert"
      data-testid="dependency-banner"
      style={{
        padding: "10px 24px",
        background: "var(--red-3)",
        color: "var(--red-11)",
        borderBottom: "1px solid var(--red-6)",
        fontSize: "14px",
        width: "100%",
      }}
    >
      {down.join("、")}暂时无法连接：页面上的操作可能无法完成，系统正在自动重试，恢复后本提示自动消失。
    </div>
  );
}
