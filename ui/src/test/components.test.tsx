import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";
import type { AccessKey } from "../api";
import { SchemaFields } from "../components/SchemaForm";
import { ModalForm, TextField } from "../components/forms";
import { KeyTable, NewKeyDialog } from "../components/keys";
import { PagedList, usePaged } from "../components/paged";
import { ConfirmButton, Empty, Pager, SearchInput, Table } from "../components/ui";
import { groupByProvider, guessType, videoOptions } from "../pages/Playground";
import { perMillion } from "../pages/Pricing";
import { renderWith } from "./helpers";

const key = (over: Partial<AccessKey>): AccessKey => ({
  id: 1,
  userId: 1,
  name: "app",
  prefix: "ahk-abcdefgh",
  maskedKey: "ahk-abcdefgh…",
  role: "member",
  status: "active",
  createdAt: "2026-01-01T00:00:00Z",
  expiresAt: null,
  revokedAt: null,
  lastUsedAt: null,
  ...over,
});

describe("credential form from a plugin's schema", () => {
  it("draws one field per property, secrets as password inputs, required marked", () => {
    const onChange = vi.fn();
    renderWith(
      <SchemaFields
        idPrefix="t"
        values={{}}
        onChange={onChange}
        schema={{
          required: ["access_key_id", "secret_access_key"],
          properties: {
            access_key_id: { type: "string", title: "Access key ID" },
            secret_access_key: { type: "string", title: "Secret access key", secret: true },
            region: { type: "string", description: "e.g. us-east-1" },
          },
        }}
      />,
    );
    const id = screen.getByLabelText(/Access key ID/) as HTMLInputElement;
    const secret = screen.getByLabelText(/Secret access key/) as HTMLInputElement;
    const region = screen.getByLabelText("Region") as HTMLInputElement;
    expect([id.type, secret.type, region.type]).toEqual(["text", "password", "text"]);
    expect([id.required, secret.required, region.required]).toEqual([true, true, false]);
    expect(region.getAttribute("aria-describedby")).toBeTruthy();
    fireEvent.change(secret, { target: { value: "s3cret" } });
    expect(onChange).toHaveBeenCalledWith({ secret_access_key: "s3cret" });
  });

  it("falls back to a single API key field", () => {
    renderWith(<SchemaFields idPrefix="t" values={{}} onChange={() => {}} schema={undefined} />);
    expect((screen.getByLabelText(/API key/) as HTMLInputElement).type).toBe("password");
  });
});

describe("access keys", () => {
  it("offers revoke only for active keys and asks first", () => {
    const onRevoke = vi.fn();
    vi.spyOn(window, "confirm").mockReturnValue(true);
    renderWith(<KeyTable keys={[key({ id: 1, name: "live" }), key({ id: 2, name: "old", status: "revoked" })]} onRevoke={onRevoke} />);
    expect(screen.queryByRole("button", { name: "Revoke key old" })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Revoke key live" }));
    expect(window.confirm).toHaveBeenCalled();
    expect(onRevoke).toHaveBeenCalledWith(expect.objectContaining({ id: 1 }));
  });

  it("shows a new key once with a copy button", async () => {
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    renderWith(<NewKeyDialog created={key({ key: "ahk-secret-value" })} onClose={() => {}} />);
    expect(screen.getByTestId("new-key").textContent).toBe("ahk-secret-value");
    fireEvent.click(screen.getByRole("button", { name: "Copy" }));
    await screen.findByRole("button", { name: "Copied" });
    expect(writeText).toHaveBeenCalledWith("ahk-secret-value");
  });
});

describe("pager", () => {
  it("disables the ends and moves by one page", () => {
    const onPage = vi.fn();
    renderWith(<Pager page={1} pageSize={20} count={45} onPage={onPage} />);
    const nav = screen.getByRole("navigation", { name: "Pagination" });
    expect(within(nav).getByText("Page 1 of 3 · 45 total")).toBeTruthy();
    expect((within(nav).getByRole("button", { name: /Previous/ }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(within(nav).getByRole("button", { name: /Next/ }));
    expect(onPage).toHaveBeenCalledWith(2);
  });

  it("speaks Chinese", () => {
    renderWith(<Pager page={2} pageSize={10} count={30} onPage={() => {}} />, { lang: "zh" });
    expect(screen.getByText("第 2 / 3 页 · 共 30 条")).toBeTruthy();
    expect(screen.getByRole("button", { name: /下一页/ })).toBeTruthy();
  });
});

describe("playground helpers", () => {
  it("guesses the kind of a model from its name", () => {
    expect(guessType("openai/text-embedding-3-small")).toBe("embedding");
    expect(guessType("openai/dall-e-3")).toBe("image");
    expect(guessType("openai/gpt-image-1")).toBe("image");
    expect(guessType("anthropic/claude-sonnet-4")).toBe("chat");
    expect(guessType("openai/sora-2")).toBe("video");
    expect(guessType("google/veo-3.0-generate-001")).toBe("video");
  });

  it("offers the clip lengths and sizes of the video model", () => {
    expect(videoOptions("openai/sora-2")).toEqual({ seconds: ["4", "8", "12"], sizes: ["720x1280", "1280x720"] });
    expect(videoOptions("openai/sora-2-pro").sizes).toContain("1792x1024");
  });

  it("groups models by provider, providers sorted", () => {
    const groups = groupByProvider([
      { id: "openai/gpt-4o", provider: "openai", type: "chat" },
      { id: "anthropic/claude", provider: "anthropic", type: "chat" },
      { id: "openai/gpt-4o-mini", provider: "openai", type: "chat" },
    ]);
    expect(groups.map(([p, ms]) => [p, ms.map((m) => m.id)])).toEqual([
      ["anthropic", ["anthropic/claude"]],
      ["openai", ["openai/gpt-4o", "openai/gpt-4o-mini"]],
    ]);
  });
});

describe("pricing", () => {
  it("shows per-token rates per 1M tokens", () => {
    expect(perMillion("0.00000015")).toBe("0.15");
    expect(perMillion("0.000002")).toBe("2");
    expect(perMillion("0")).toBe("0");
  });
});

describe("switch", () => {
  it("is a labelled switch that reports its state", async () => {
    const { Switch } = await import("../components/ui");
    const onChange = vi.fn();
    renderWith(<Switch checked={false} label="Enable plugin openai" onChange={onChange} />);
    const sw = screen.getByRole("switch", { name: "Enable plugin openai" });
    expect(sw.getAttribute("aria-checked")).toBe("false");
    fireEvent.click(sw);
    await waitFor(() => expect(onChange).toHaveBeenCalledWith(true));
  });
});

describe("paged lists", () => {
  const NAMES = ["ann", "bob", "cat", "dan", "eve"];

  function People({ load }: { load: (page: number, size: number, q: string) => void }) {
    const [q, setQ] = useState("");
    const people = usePaged(
      async (page, size) => {
        load(page, size, q);
        const hits = NAMES.filter((n) => n.includes(q));
        return { list: hits.slice((page - 1) * size, page * size), count: hits.length };
      },
      [q],
      2,
    );
    return (
      <>
        <SearchInput label="Search people" value={q} onSearch={people.filter(setQ)} />
        <PagedList paged={people} empty={<Empty>Nobody.</Empty>} pagerWhenEmpty={false}>
          {(list) => (
            <Table columns={["Name", { label: "Age", num: true }]} actions>
              {list.map((n) => (
                <tr key={n}>
                  <td>{n}</td>
                  <td className="num">1</td>
                  <td />
                </tr>
              ))}
            </Table>
          )}
        </PagedList>
      </>
    );
  }

  it("loads one page at a time and a new filter starts again at page 1 with one request", async () => {
    const load = vi.fn();
    renderWith(<People load={load} />);
    await screen.findByText("ann");
    expect(screen.getByText("Page 1 of 3 · 5 total")).toBeTruthy();
    expect(screen.getByRole("columnheader", { name: "Age" }).className).toBe("num");
    expect(screen.getByRole("columnheader", { name: "Actions" })).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: /Next/ }));
    await screen.findByText("cat");
    expect(load).toHaveBeenLastCalledWith(2, 2, "");
    load.mockClear();
    fireEvent.change(screen.getByRole("searchbox", { name: "Search people" }), { target: { value: "e" } });
    await screen.findByText("Page 1 of 1 · 1 total");
    expect(screen.getByText("eve")).toBeTruthy();
    expect(load.mock.calls).toEqual([[1, 2, "e"]]);
  });

  it("shows the empty text without a pager when asked to", async () => {
    renderWith(<People load={() => {}} />);
    await screen.findByText("ann");
    fireEvent.change(screen.getByRole("searchbox", { name: "Search people" }), { target: { value: "zzz" } });
    await screen.findByText("Nobody.");
    expect(screen.queryByRole("navigation", { name: "Pagination" })).toBeNull();
  });
});

describe("confirm button", () => {
  it("does nothing unless the user confirms", () => {
    const onConfirm = vi.fn();
    const confirm = vi.spyOn(window, "confirm").mockReturnValue(false);
    renderWith(
      <ConfirmButton question="Delete x?" label="Delete thing x" onConfirm={onConfirm}>
        Delete
      </ConfirmButton>,
    );
    fireEvent.click(screen.getByRole("button", { name: "Delete thing x" }));
    expect(confirm).toHaveBeenCalledWith("Delete x?");
    expect(onConfirm).not.toHaveBeenCalled();
    confirm.mockReturnValue(true);
    fireEvent.click(screen.getByRole("button", { name: "Delete thing x" }));
    expect(onConfirm).toHaveBeenCalledTimes(1);
  });
});

describe("modal form", () => {
  function NameForm({ submit, onDone }: { submit: (name: string) => Promise<string>; onDone: (r: string) => void }) {
    const [name, setName] = useState("");
    return (
      <ModalForm title="Rename" submitLabel="Save" onClose={() => {}} submit={() => submit(name)} onDone={onDone}>
        <TextField label="Name" hint="Shown in lists." name="name" value={name} onValue={setName} />
      </ModalForm>
    );
  }

  it("shows a failed submit inline and hands a result to onDone", async () => {
    const onDone = vi.fn();
    const submit = vi.fn(async (name: string) => {
      if (name === "bad") throw new Error("That name is taken");
      return `saved ${name}`;
    });
    renderWith(<NameForm submit={submit} onDone={onDone} />);
    const input = screen.getByLabelText("Name");
    expect(input.getAttribute("aria-describedby")).toBeTruthy();
    fireEvent.change(input, { target: { value: "bad" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect((await screen.findByRole("alert")).textContent).toBe("That name is taken");
    expect(onDone).not.toHaveBeenCalled();
    fireEvent.change(input, { target: { value: "good" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(onDone).toHaveBeenCalledWith("saved good"));
    expect(screen.queryByRole("alert")).toBeNull();
  });
});
