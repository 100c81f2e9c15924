// A Chinese date field: the day typed as 年-月-日 (yyyy-MM-dd) or picked on a calendar whose
// weeks start on Monday, in Chinese whatever language the browser is set to (the browser's
// own <input type="date"> shows mm/dd/yyyy and English months in an English browser).
//
// Props: value ("" or "yyyy-MM-dd"), onChange(text) fired with a valid day or "" when the
// field is left, Enter is pressed or a day is picked; name (the form field it submits as),
// placeholder, size (Radix size), width, testid (on the text box; the calendar button gets
// testid + "-calendar"), min / max ("yyyy-MM-dd", days outside are not offered).
import React, { useEffect, useState } from "react";
import { Flex, IconButton, Popover, Text, TextField } from "@radix-ui/themes";
import { CalendarDays } from "lucide-react";
import { DayPicker } from "react-day-picker";
import { zhCN } from "react-day-picker/locale";
import "react-day-picker/style.css";

const DAY = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;

function toDay(text) {
  const found = DAY.exec((text || "").trim());
  if (!found) return undefined;
  const [year, month, date] = found.slice(1).map(Number);
  const day = new Date(year, month - 1, date);
  const real = day.getFullYear() === year && day.getMonth() === month - 1 && day.getDate() === date;
  return real ? day : undefined;
}

function toText(day) {
  if (!day) return "";
  const two = (n) => String(n).padStart(2, "0");
  return `${day.getFullYear()}-${two(day.getMonth() + 1)}-${two(day.getDate())}`;
}

function problemOf(text, min, max) {
  if (text === "") return "";
  const day = toDay(text);
  if (!day) return "应为 年-月-日，如 2026-12-04";
  if (min && toText(day) < min) return `不能早于 ${min}`;
  if (max && toText(day) > max) return `不能晚于 ${max}`;
  return "";
}

export function DateField({ value, onChange, name, placeholder, size, width, testid, min, max }) {
  const [text, setText] = useState(value || "");
  const [open, setOpen] = useState(false);
  const [left, setLeft] = useState(false); // the field was left once: say what is wrong
  useEffect(() => setText(value || ""), [value]);

  const problem = problemOf(text.trim(), min, max);
  const shown = problem && (left || text.trim().length >= 10) ? problem : "";
  const commit = (raw) => {
    const typed = raw.trim();
    setLeft(true);
    if (problemOf(typed, min, max)) return;
    const normal = typed === "" ? "" : toText(toDay(typed));
    setText(normal);
    if (onChange && normal !== (value || "")) onChange(normal);
  };
  const picked = toDay(text);
  const disabled = [];
  if (min) disabled.push({ before: toDay(min) });
  if (max) disabled.push({ after: toDay(max) });

  return (
    <Flex direction="column" gap="1">
      <Popover.Root open={open} onOpenChange={setOpen}>
        <TextField.Root
          size={size || "1"}
          name={name}
          value={text}
          placeholder={placeholder || "年-月-日"}
          inputMode="numeric"
          autoComplete="off"
          aria-invalid={shown ? "true" : undefined}
          color={shown ? "red" : undefined}
          data-testid={testid}
          style={{ width: width || "150px" }}
          onChange={(event) => setText(event.target.value)}
          onBlur={(event) => commit(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === "Enter") commit(event.currentTarget.value);
          }}
        >
          <TextField.Slot side="right">
            <Popover.Trigger>
              <IconButton
                size="1"
                variant="ghost"
                type="button"
                aria-label="打开日历"
                data-testid={testid ? `${testid}-calendar` : undefined}
              >
                <CalendarDays size={14} />
              </IconButton>
            </Popover.Trigger>
          </TextField.Slot>
        </TextField.Root>
        <Popover.Content size="1" style={{ "--rdp-accent-color": "var(--accent-9)" }}>
          <DayPicker
            mode="single"
            locale={zhCN}
            weekStartsOn={1}
            captionLayout="dropdown"
            startMonth={new Date(2015, 0)}
            endMonth={new Date(new Date().getFullYear() + 1, 11)}
            selected={picked}
            defaultMonth={picked}
            disabled={disabled}
            onSelect={(day) => {
              const chosen = toText(day);
              setText(chosen);
              setLeft(false);
              setOpen(false);
              if (onChange && chosen !== (value || "")) onChange(chosen);
            }}
          />
        </Popover.Content>
      </Popover.Root>
      {shown ? (
        <Text size="1" color="red" role="alert">
          {shown}
        </Text>
      ) : null}
    </Flex>
  );
}
