-- Neovim (0.7+) as the language server's client: start `iommugen lsp`,
-- open a spec with an error, wait for the diagnostics, fix the text and
-- wait for them to clear, ask for a hover and a formatting, write it all
-- as JSON.
-- Driven by tests/lsp_nvim.rs through the environment:
--   IOMMUGEN  the built binary
--   SPEC      the spec file to open
--   FIXED     the text that replaces it (valid, not formatted)
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

  -- Fix the text (an edit, as a user would): the diagnostics must clear.
  local fixed = {}
  for line in io.lines(os.getenv("FIXED")) do
    table.insert(fixed, line)
  end
  vim.api.nvim_buf_set_lines(0, 0, -1, false, fixed)
  local cleared = vim.wait(30000, function()
    return #vim.diagnostic.get(0) == 0
  end, 50)
  assert(cleared, "diagnostics did not clear within 30 s of the fix")

  -- Hover on the `cells` keyword (line 3, 0-based 2, at its first letter).
  local uri = vim.uri_from_bufnr(0)
  local hover = vim.lsp.buf_request_sync(0, "textDocument/hover",
    { textDocument = { uri = uri }, position = { line = 2, character = 3 } }, 10000)
  local hover_text = ""
  for _, r in pairs(hover or {}) do
    local c = (r.result or {}).contents
    if type(c) == "table" then
      hover_text = c.value or vim.fn.json_encode(c)
    elseif type(c) == "string" then
      hover_text = c
    end
  end

  -- Format the whole document and apply the edits Neovim gets.
  local fmt = vim.lsp.buf_request_sync(0, "textDocument/formatting",
    { textDocument = { uri = uri }, options = { tabSize = 4, insertSpaces = true } }, 10000)
  for _, r in pairs(fmt or {}) do
    if r.result then
      vim.lsp.util.apply_text_edits(r.result, 0, "utf-16")
    end
  end
  local formatted = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")

  vim.lsp.stop_client(client)
  finish({ diagnostics = out, hover = hover_text, formatted = formatted })
end)
if not ok then
  finish({ error = tostring(err) })
end
