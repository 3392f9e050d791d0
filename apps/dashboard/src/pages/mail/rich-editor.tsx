import { useEffect } from 'react';
import { EditorContent, useEditor, useEditorState, type Editor } from '@tiptap/react';
import StarterKit from '@tiptap/starter-kit';
import './rich-editor.css';

/** The link addresses the editor takes (the API's sanitizer keeps the same: http, https, mailto). */
const LINK_PROTOCOLS = /^(https?:\/\/|mailto:)/i;

interface Props {
  /** the starting content (a reply's quote, the signature); read once */
  initialHtml: string;
  onChange: (html: string) => void;
  /** focus the editor at its start once it exists (replies: above the quote) */
  autoFocus?: boolean;
  label: string;
}

/**
 * The compose body: TipTap (ProseMirror) with StarterKit's bold, italic, bulleted and numbered lists, quotes and
 * links, and a toolbar for them (Ctrl+B, Ctrl+I, Ctrl+Shift+8/7, Ctrl+Shift+B work too). Headings, code blocks and
 * the rest are off: a mail needs the basics. The HTML it reports is sanitized again by the API before sending.
 */
export function RichEditor({ initialHtml, onChange, autoFocus, label }: Props) {
  const editor = useEditor({
    extensions: [
      StarterKit.configure({
        heading: false,
        code: false,
        codeBlock: false,
        horizontalRule: false,
        strike: false,
        underline: false,
        link: {
          openOnClick: false,
          autolink: true,
          defaultProtocol: 'https',
          protocols: ['mailto'],
          isAllowedUri: (url) => LINK_PROTOCOLS.test(url),
        },
      }),
    ],
    content: initialHtml,
    editorProps: {
      attributes: {
        'aria-label': label,
        role: 'textbox',
        'aria-multiline': 'true',
        class: 'rich-editor-content',
      },
    },
    onUpdate: ({ editor: e }) => onChange(e.getHTML()),
    onCreate: ({ editor: e }) => onChange(e.getHTML()),
  });

  useEffect(() => {
    // an instance React already destroyed (the editor is re-created on a remount) has no commands: the new one
    // comes with the next render
    if (editor && autoFocus && !editor.isDestroyed) editor.commands.focus('start');
  }, [editor, autoFocus]);

  return (
    <div className="rich-editor">
      {editor && <Toolbar editor={editor} />}
      <EditorContent editor={editor} />
    </div>
  );
}

function Toolbar({ editor }: { editor: Editor }) {
  const active = useEditorState({
    editor,
    selector: ({ editor: e }) => ({
      bold: e.isActive('bold'),
      italic: e.isActive('italic'),
      bulletList: e.isActive('bulletList'),
      orderedList: e.isActive('orderedList'),
      blockquote: e.isActive('blockquote'),
      link: e.isActive('link'),
    }),
  });
  const setLink = () => {
    const current = (editor.getAttributes('link') as { href?: string }).href ?? '';
    const url = window.prompt('Link address (https://… or mailto:…)', current || 'https://');
    if (url === null) return;
    const chain = editor.chain().focus().extendMarkRange('link');
    if (url.trim() === '' || url.trim() === 'https://') return void chain.unsetLink().run();
    const href = LINK_PROTOCOLS.test(url.trim()) ? url.trim() : `https://${url.trim()}`;
    if (editor.state.selection.empty && !active.link) {
      // nothing selected: the address becomes the link's text
      return void chain
        .insertContent({ type: 'text', text: href, marks: [{ type: 'link', attrs: { href } }] })
        .run();
    }
    chain.setLink({ href }).run();
  };
  const buttons: { key: keyof typeof active; label: string; text: string; run: () => void }[] = [
    { key: 'bold', label: 'Bold', text: 'B', run: () => editor.chain().focus().toggleBold().run() },
    { key: 'italic', label: 'Italic', text: 'I', run: () => editor.chain().focus().toggleItalic().run() },
    {
      key: 'bulletList',
      label: 'Bulleted list',
      text: '•',
      run: () => editor.chain().focus().toggleBulletList().run(),
    },
    {
      key: 'orderedList',
      label: 'Numbered list',
      text: '1.',
      run: () => editor.chain().focus().toggleOrderedList().run(),
    },
    { key: 'link', label: 'Link', text: 'Link', run: setLink },
    {
      key: 'blockquote',
      label: 'Quote',
      text: '❝',
      run: () => editor.chain().focus().toggleBlockquote().run(),
    },
  ];
  return (
    <div className="rich-editor-toolbar" role="toolbar" aria-label="Formatting">
      {buttons.map((b) => (
        <button
          key={b.key}
          type="button"
          className={`rich-editor-button rich-editor-${b.key}`}
          aria-label={b.label}
          title={b.label}
          aria-pressed={active[b.key]}
          onMouseDown={(e) => e.preventDefault()}
          onClick={b.run}
        >
          {b.text}
        </button>
      ))}
    </div>
  );
}
