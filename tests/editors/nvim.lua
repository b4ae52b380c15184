-- Neovim (0.7+) as the language server's client: start `iommugen lsp`,
-- open a spec with an error, wait for the diagnostics, write them as JSON.
-- Driven by tests/lsp_nvim.rs through the environment:
--   IOMMUGEN  the built binary
--   SPEC      the spec file to open
--   RESULT    where to write {"diagnostics": [...]} or {"error": "..."}
local function finish(result)
  local f = assert(io.open(os.getenv("RESULT"), "w"))
  f:write(vim.fn.json_encode(result))
  f:close()
  vim.cmd("qall!")
end

local ok, err = pcall(function()
  local spec = os.getenv("SPEC")
  vim.cmd("edit " .. vim.fn.fnameescape(spec))
  local client = vim.lsp.start_client({
    name = "iommugen",
    cmd = { os.getenv("IOMMUGEN"), "lsp" },
    root_dir = vim.fn.fnamemodify(spec, ":h"),
  })
  assert(client, "the client did not start")
  vim.lsp.buf_attach_client(0, client)
  local got = vim.wait(30000, function()
    return #vim.diagnostic.get(0) > 0
  end, 50)
  assert(got, "no diagnostics within 30 s")
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(0)) do
    local lsp = (d.user_data or {}).lsp or {}
    table.insert(out, {
      lnum = d.lnum, col = d.col, end_lnum = d.end_lnum, end_col = d.end_col,
      severity = d.severity, message = d.message, code = lsp.code or d.code,
      source = d.source,
    })
  end
  table.sort(out, function(a, b) return a.lnum < b.lnum or (a.lnum == b.lnum and a.col < b.col) end)
  vim.lsp.stop_client(client)
  finish({ diagnostics = out })
end)
if not ok then
  finish({ error = tostring(err) })
end
